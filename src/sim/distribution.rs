//! Durations as traffic files write them (`30s`, `4m`, `1h 30m`) and the
//! distributions of durations drawn for calls: talk time, patience, the
//! think time before a key and the gap between keys. Shared by the traffic
//! model and the simulated caller.

use serde::Deserialize;

use crate::random::Rng;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// How a duration is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(tag = "distribution", rename_all = "lowercase", deny_unknown_fields)]
pub enum Distribution {
    Exponential { mean: Dur },
    Lognormal { mean: Dur, sd: Dur },
    Fixed { value: Dur },
}

impl Distribution {
    /// A draw, in milliseconds.
    pub fn draw(&self, rng: &mut Rng) -> i64 {
        let ms = match *self {
            Distribution::Exponential { mean } => rng.exponential(mean.0 as f64),
            Distribution::Lognormal { mean, sd } => rng.lognormal(mean.0 as f64, sd.0 as f64),
            Distribution::Fixed { value } => value.0 as f64,
        };
        ms.round().max(0.0) as i64
    }

    pub fn mean_ms(&self) -> i64 {
        match *self {
            Distribution::Exponential { mean } | Distribution::Lognormal { mean, .. } => mean.0,
            Distribution::Fixed { value } => value.0,
        }
    }
}

/// A duration in milliseconds, written as in scripts (`30s`, `4m`, `1h30m`,
/// `7d`, `500ms`), with spaces allowed between the parts (`1h 30m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub i64);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        let text = String::deserialize(d)?;
        let compact: String = text.split_whitespace().collect();
        let ms = crate::lookup::duration_ms(&compact).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration; write it as in scripts, like \"30s\", \"4m\", \
                 \"1h 30m\" or \"7d\" (units d, h, m, s, ms, largest first)"
            ))
        })?;
        if ms > 31 * DAY_MS {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is longer than the longest run, 31 days"
            )));
        }
        Ok(Dur(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(text: &str) -> Result<i64, String> {
        #[derive(Deserialize)]
        struct One {
            d: Dur,
        }
        toml::from_str::<One>(&format!("d = \"{text}\""))
            .map(|o| o.d.0)
            .map_err(|e| e.to_string())
    }

    /// Traffic files take the durations scripts take, days included.
    #[test]
    fn durations_read_as_in_scripts() {
        assert_eq!(dur("7d"), Ok(7 * DAY_MS));
        assert_eq!(dur("1d12h"), Ok(36 * 3_600_000));
        assert_eq!(dur("1h30m"), Ok(90 * 60_000));
        assert_eq!(dur("1h 30m"), Ok(90 * 60_000));
        assert_eq!(dur("2m30s"), Ok(150_000));
        assert_eq!(dur("500ms"), Ok(500));
        assert_eq!(dur("0s"), Ok(0));
        assert_eq!(dur("31d"), Ok(31 * DAY_MS));
        for bad in [
            "",
            "3",
            "m",
            "30m1h",
            "1h1h",
            "-5m",
            "1.5h",
            "three minutes",
        ] {
            let e = dur(bad).expect_err(bad);
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
        assert!(
            dur("32d")
                .expect_err("32d")
                .contains("longer than the longest run")
        );
        assert!(dur("99999999999999999d").is_err());
    }
}
