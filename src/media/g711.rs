//! ITU-T G.711: 16-bit linear PCM to and from µ-law (PCMU, RTP payload
//! type 0) and A-law (PCMA, payload type 8), one byte per sample.
//!
//! Prompts are kept as 16-bit PCM at 8 kHz (hound reads and writes PCM
//! only); calls carry them as µ-law or A-law, whichever was negotiated, and
//! recordings decode what the caller sent. The encoders quantize as the
//! standard's segment tables do (µ-law with its bias of 33 in 14-bit
//! units, A-law in 13-bit units), the decoders give the tables' output
//! values scaled to 16 bits; the tests check all 256 codes of each law
//! against the tables.

/// µ-law's bias in 16-bit units (33 in the standard's 14-bit units).
const ULAW_BIAS: i32 = 0x84;
/// The largest 16-bit magnitude µ-law encodes before clipping.
const ULAW_CLIP: i32 = 32_635;

/// Encodes one sample as µ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let sample = i32::from(sample);
    let (magnitude, mask) = if sample < 0 {
        ((-sample).min(ULAW_CLIP), 0x7F)
    } else {
        (sample.min(ULAW_CLIP), 0xFF)
    };
    let biased = magnitude + ULAW_BIAS;
    // The segment: where the biased magnitude's top bit is, from 2^7 up.
    let segment = (31 - biased.leading_zeros() as i32 - 7).clamp(0, 7);
    let quant = (biased >> (segment + 3)) & 0xF;
    ((segment << 4) | quant) as u8 ^ mask
}

/// Decodes one µ-law byte to a 16-bit sample.
pub fn ulaw_decode(code: u8) -> i16 {
    let code = !code;
    let segment = i32::from((code & 0x70) >> 4);
    let quant = i32::from(code & 0x0F);
    let magnitude = (((quant << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    (if code & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }) as i16
}

/// Encodes one sample as A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    // 13-bit units; a negative value codes its one's complement magnitude.
    let value = i32::from(sample) >> 3;
    let (magnitude, mask) = if value >= 0 {
        (value, 0xD5)
    } else {
        (-value - 1, 0x55)
    };
    if magnitude > 0xFFF {
        return 0x7F ^ mask;
    }
    let segment = if magnitude < 32 {
        0
    } else {
        (31 - magnitude.leading_zeros() as i32 - 4).clamp(1, 7)
    };
    let quant = if segment < 2 {
        (magnitude >> 1) & 0xF
    } else {
        (magnitude >> segment) & 0xF
    };
    ((segment << 4) | quant) as u8 ^ mask
}

/// Decodes one A-law byte to a 16-bit sample.
pub fn alaw_decode(code: u8) -> i16 {
    let code = code ^ 0x55;
    let segment = u32::from((code & 0x70) >> 4);
    let quant = i32::from(code & 0x0F) << 4;
    let magnitude = match segment {
        0 => quant + 8,
        1 => quant + 0x108,
        s => (quant + 0x108) << (s - 1),
    };
    (if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }) as i16
}

/// Encodes a block of samples with `encode`, appending to `out`.
pub fn encode_into(samples: &[i16], encode: fn(i16) -> u8, out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| encode(s)));
}

/// Decodes a payload with `decode`, appending to `out`.
pub fn decode_into(payload: &[u8], decode: fn(u8) -> i16, out: &mut Vec<i16>) {
    out.extend(payload.iter().map(|&c| decode(c)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// G.711 Table 2 (µ-law): the decoder output magnitude, in 14-bit
    /// units, of quantization interval `quant` (0-15) in segment `segment`
    /// (0-7): segment 0 runs 0, 2, ..., 30; segment s starts at
    /// 33·2^s − 33 and steps by 2^(s+1) (33, 37, ..., 93; ...; 4191, ...,
    /// 8031).
    fn ulaw_table(segment: i32, quant: i32) -> i32 {
        ((2 * quant + 33) << segment) - 33
    }

    /// G.711 Table 1 (A-law): the decoder output magnitude, in 13-bit
    /// units: segment 0 runs 1, 3, ..., 31; segment s ≥ 1 starts at
    /// 2^(s+4) + 2^(s−1) and steps by 2^s (33, 35, ..., 63; 66, ...;
    /// 2112, ..., 4032).
    fn alaw_table(segment: i32, quant: i32) -> i32 {
        match segment {
            0 => 2 * quant + 1,
            s => (1 << (s + 4)) + (1 << (s - 1)) + quant * (1 << s),
        }
    }

    #[test]
    fn ulaw_decodes_every_code_to_the_table_value() {
        for code in 0..=255u8 {
            // The transmitted code is the complement of sign, segment, quant.
            let inverted = !code;
            let segment = i32::from((inverted & 0x70) >> 4);
            let quant = i32::from(inverted & 0x0F);
            let magnitude = 4 * ulaw_table(segment, quant);
            let expected = if inverted & 0x80 != 0 {
                -magnitude
            } else {
                magnitude
            };
            assert_eq!(i32::from(ulaw_decode(code)), expected, "code {code:#04x}");
        }
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x80), 32_124);
        assert_eq!(ulaw_decode(0x00), -32_124);
    }

    #[test]
    fn alaw_decodes_every_code_to_the_table_value() {
        for code in 0..=255u8 {
            // Even bits are inverted on the line (the 0x55 mask).
            let line = code ^ 0x55;
            let segment = i32::from((line & 0x70) >> 4);
            let quant = i32::from(line & 0x0F);
            let magnitude = 8 * alaw_table(segment, quant);
            let expected = if line & 0x80 != 0 {
                magnitude
            } else {
                -magnitude
            };
            assert_eq!(i32::from(alaw_decode(code)), expected, "code {code:#04x}");
        }
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32_256);
        assert_eq!(alaw_decode(0x2A), -32_256);
    }

    #[test]
    fn every_code_encodes_back_to_itself() {
        for code in 0..=255u8 {
            // µ-law's negative zero (0x7F) comes back as positive zero.
            let want = if code == 0x7F { 0xFF } else { code };
            assert_eq!(ulaw_encode(ulaw_decode(code)), want, "µ-law {code:#04x}");
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn every_sample_lands_in_its_own_interval() {
        // The decoded value of a sample's code is the nearest level of its
        // segment: off by at most half a step (µ-law: 2^(s+3) / 2 in 16-bit
        // units; A-law: 2^(max(s,1)+3) / 2), apart from clipping at the ends.
        for sample in i16::MIN..=i16::MAX {
            let x = i32::from(sample);
            let u = ulaw_encode(sample);
            let segment = i32::from((!u & 0x70) >> 4);
            let err = (i32::from(ulaw_decode(u)) - x).abs();
            if x.abs() <= ULAW_CLIP {
                assert!(err <= 1 << (segment + 2), "µ-law {sample}: {err}");
            }
            let a = alaw_encode(sample);
            let segment = i32::from(((a ^ 0x55) & 0x70) >> 4);
            let err = (i32::from(alaw_decode(a)) - x).abs();
            if x.abs() < 32_256 {
                assert!(err <= 1 << (segment.max(1) + 2), "A-law {sample}: {err}");
            }
        }
        // Silence and the ends of the range.
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn blocks_convert_sample_by_sample() {
        let samples = [0, 1000, -1000, 32_000, -32_000];
        let mut payload = Vec::new();
        encode_into(&samples, ulaw_encode, &mut payload);
        assert_eq!(payload.len(), samples.len());
        let mut back = Vec::new();
        decode_into(&payload, ulaw_decode, &mut back);
        assert_eq!(back.len(), samples.len());
        assert_eq!(back[0], 0);
        assert!((i32::from(back[1]) - 1000).abs() <= 32);
    }
}
