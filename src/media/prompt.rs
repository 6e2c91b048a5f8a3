//! A prompt's audio: a WAV file of 16-bit PCM, 8 kHz, mono (the form the
//! project keeps prompts in, docs/decisions.md), read whole with hound and
//! played as 20 ms frames.
//!
//! A [`Cursor`] is where one stream is in a prompt. Played once, the last
//! frame is padded with silence and the cursor then says it has ended;
//! looped (hold music), it wraps to the start, and a cursor kept across a
//! pause continues where it was rather than starting again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
/// The one sample rate prompts are kept in.
pub const RATE: u32 = 8_000;

/// A prompt's samples, shared by every call that plays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

/// Why a prompt file cannot be played.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read prompt {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },
    #[error(
        "prompt {path} is {found}; prompts must be 16-bit PCM, 8000 Hz, mono \
         (convert with: sox IN -r 8000 -c 1 -b 16 -e signed-integer OUT.wav)"
    )]
    Format { path: PathBuf, found: String },
}

impl Prompt {
    /// Reads a WAV file, refusing any other form than 16-bit PCM, 8 kHz,
    /// mono with the reason and how to convert it.
    pub fn load(path: &Path) -> Result<Prompt, PromptError> {
        let read = |source| PromptError::Read {
            path: path.to_path_buf(),
            source,
        };
        let reader = hound::WavReader::open(path).map_err(read)?;
        let spec = reader.spec();
        if spec.sample_format != hound::SampleFormat::Int
            || spec.bits_per_sample != 16
            || spec.sample_rate != RATE
            || spec.channels != 1
        {
            let format = match spec.sample_format {
                hound::SampleFormat::Int => "PCM",
                hound::SampleFormat::Float => "float",
            };
            return Err(PromptError::Format {
                path: path.to_path_buf(),
                found: format!(
                    "{}-bit {format}, {} Hz, {} channel(s)",
                    spec.bits_per_sample, spec.sample_rate, spec.channels
                ),
            });
        }
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Arc<[i16]>, _>>()
            .map_err(read)?;
        Ok(Prompt { samples })
    }

    /// `ms` milliseconds of silence: what a missing prompt plays.
    pub fn silence(ms: u32) -> Prompt {
        let n = (u64::from(ms) * u64::from(RATE) / 1000) as usize;
        Prompt {
            samples: vec![0; n].into(),
        }
    }

    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// How long the prompt plays, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(RATE)
    }
}

/// Where one stream is in a prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    at: usize,
}

impl Cursor {
    /// Writes the next 20 ms of `prompt` into `frame`. Played once
    /// (`looped` false), the last frame is padded with silence and the
    /// call after it returns false, writing nothing; looped, the prompt
    /// wraps to its start mid-frame and never ends (an empty prompt is
    /// silence).
    pub fn next_frame(&mut self, prompt: &Prompt, looped: bool, frame: &mut [i16; FRAME]) -> bool {
        let samples = prompt.samples();
        if !looped && self.at >= samples.len() {
            return false;
        }
        for slot in frame.iter_mut() {
            if self.at >= samples.len() {
                if !looped || samples.is_empty() {
                    *slot = 0;
                    continue;
                }
                self.at = 0;
            }
            *slot = samples[self.at];
            self.at += 1;
        }
        true
    }

    /// Milliseconds played so far (within the current loop).
    pub fn position_ms(&self) -> u64 {
        self.at as u64 * 1000 / u64::from(RATE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(name: &str, spec: hound::WavSpec, samples: &[i16]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dialect-prompt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        path
    }

    fn spec(rate: u32, channels: u16) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        }
    }

    #[test]
    fn the_shipped_prompts_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
        let mut loaded = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wav") {
                let prompt = Prompt::load(&path).unwrap();
                assert!(prompt.duration_ms() > 100, "{}", path.display());
                loaded += 1;
            }
        }
        assert!(loaded > 10, "only {loaded} prompts");
    }

    #[test]
    fn other_forms_are_refused_with_the_conversion() {
        let path = wav("stereo.wav", spec(44_100, 2), &[1, 2, 3, 4]);
        let err = Prompt::load(&path).unwrap_err().to_string();
        assert!(err.contains("16-bit PCM, 44100 Hz, 2 channel(s)"), "{err}");
        assert!(err.contains("sox IN -r 8000 -c 1"), "{err}");
        let missing = Prompt::load(Path::new("/nonexistent/none.wav")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read prompt /nonexistent/none.wav")
        );
    }

    #[test]
    fn played_once_the_last_frame_is_padded_then_it_ends() {
        let samples: Vec<i16> = (1..=200).collect();
        let prompt = Prompt::load(&wav("once.wav", spec(RATE, 1), &samples)).unwrap();
        assert_eq!(prompt.duration_ms(), 25);
        let (mut cursor, mut frame) = (Cursor::default(), [0i16; FRAME]);
        assert!(cursor.next_frame(&prompt, false, &mut frame));
        assert_eq!((frame[0], frame[159]), (1, 160));
        assert!(cursor.next_frame(&prompt, false, &mut frame));
        assert_eq!((frame[39], frame[40], frame[159]), (200, 0, 0));
        assert!(!cursor.next_frame(&prompt, false, &mut frame));
    }

    #[test]
    fn looped_it_wraps_and_a_kept_cursor_continues_where_it_was() {
        let samples: Vec<i16> = (1..=200).collect();
        let prompt = Prompt::load(&wav("loop.wav", spec(RATE, 1), &samples)).unwrap();
        let (mut cursor, mut frame) = (Cursor::default(), [0i16; FRAME]);
        cursor.next_frame(&prompt, true, &mut frame);
        cursor.next_frame(&prompt, true, &mut frame);
        // 40 samples left, then the start again.
        assert_eq!((frame[39], frame[40], frame[41]), (200, 1, 2));
        let paused = cursor;
        assert_eq!(paused.position_ms(), 15);
        let mut again = paused;
        again.next_frame(&prompt, true, &mut frame);
        assert_eq!(frame[0], 121, "resumed, not restarted");
        let mut empty = Cursor::default();
        assert!(empty.next_frame(&Prompt::silence(0), true, &mut frame));
        assert!(frame.iter().all(|&s| s == 0));
        assert_eq!(Prompt::silence(1000).duration_ms(), 1000);
    }
}
