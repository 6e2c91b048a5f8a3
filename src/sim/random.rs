//! Seeded random numbers for the simulator: SplitMix64, and the draws a
//! traffic model needs (uniform, exponential, lognormal, a weighted
//! choice). Small and fixed, so a seed gives the same day on every build.

/// A SplitMix64 generator.
#[derive(Clone, Debug, Default)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A generator for a sub-stream, independent of this one's sequence.
    pub fn fork(&mut self) -> Rng {
        Rng(self.next_u64() ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in (0, 1].
    fn open_uniform(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Exponentially distributed with this mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -self.open_uniform().ln() * mean
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let r = (-2.0 * self.open_uniform().ln()).sqrt();
        r * (std::f64::consts::TAU * self.uniform()).cos()
    }

    /// Lognormally distributed with this mean and standard deviation.
    pub fn lognormal(&mut self, mean: f64, sd: f64) -> f64 {
        let variance = (1.0 + (sd * sd) / (mean * mean)).ln();
        let mu = mean.ln() - variance / 2.0;
        (mu + variance.sqrt() * self.normal()).exp()
    }

    /// An index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }

    /// Picks by weight: the index whose cumulative weight passes a uniform
    /// draw, or `None` when the draw lands past the last weight (weights
    /// that sum below 1 leave room for "none of these").
    pub fn choose(&mut self, weights: &[f64]) -> Option<usize> {
        let mut u = self.uniform();
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return Some(i);
            }
            u -= w;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn draws_have_their_means() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let exp: f64 = (0..n).map(|_| r.exponential(180.0)).sum::<f64>() / n as f64;
        assert!((exp - 180.0).abs() < 180.0 * 0.02, "exponential mean {exp}");
        let logn: Vec<f64> = (0..n).map(|_| r.lognormal(240.0, 120.0)).collect();
        let mean = logn.iter().sum::<f64>() / n as f64;
        let sd = (logn.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((mean - 240.0).abs() < 240.0 * 0.02, "lognormal mean {mean}");
        assert!((sd - 120.0).abs() < 120.0 * 0.05, "lognormal sd {sd}");
        assert_eq!(Rng::new(1).next_u64(), Rng::new(1).next_u64());
    }
}
