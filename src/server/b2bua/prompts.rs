//! The recordings B2BUA calls play, read once at start-up from the
//! prompts folder (`prompts/` beside the script, or `prompts` in
//! dialect.toml): `play "main-en"` plays `main-en.wav`. A prompt with no
//! file (start-up says which, as `lint --prompts` does) plays as a short
//! silence, never as a failed call.
//!
//! Queue announcements are built from the shipped number prompts:
//! "you are caller number" (`queue-position`) then the number, "your
//! expected wait is about" (`queue-wait`), the number and "minutes".

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::media::prompt::Prompt;

/// How long a missing prompt's silence lasts.
const MISSING_MS: u32 = 500;

/// Prompts by name.
#[derive(Debug)]
pub struct Prompts {
    by_name: HashMap<String, Arc<Prompt>>,
    silence: Arc<Prompt>,
}

/// Why a file in the prompts folder was not loaded.
#[derive(Debug)]
pub struct Unreadable {
    pub name: String,
    pub reason: String,
}

impl Prompts {
    /// Reads every `.wav` file of `folder`; a file that is not 16-bit PCM
    /// 8 kHz mono is left out and reported. A missing folder holds none.
    pub fn load(folder: &Path) -> (Prompts, Vec<Unreadable>) {
        let mut prompts = Prompts {
            by_name: HashMap::new(),
            silence: Arc::new(Prompt::silence(MISSING_MS)),
        };
        let mut bad = Vec::new();
        let Ok(entries) = std::fs::read_dir(folder) else {
            return (prompts, bad);
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_wav = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if !is_wav {
                continue;
            }
            match Prompt::load(&path) {
                Ok(p) => {
                    prompts.by_name.insert(name.to_string(), Arc::new(p));
                }
                Err(e) => bad.push(Unreadable {
                    name: name.to_string(),
                    reason: e.to_string(),
                }),
            }
        }
        (prompts, bad)
    }

    /// How many prompts were read.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The prompt `name`, if it has a file.
    pub fn find(&self, name: &str) -> Option<Arc<Prompt>> {
        self.by_name.get(name).cloned()
    }

    /// The prompt `name`, or silence when it has no file.
    pub fn get(&self, name: &str) -> Arc<Prompt> {
        self.find(name).unwrap_or_else(|| Arc::clone(&self.silence))
    }

    /// "You are caller number N."
    pub fn position(&self, n: usize) -> Vec<Arc<Prompt>> {
        let mut out = vec![self.get("queue-position")];
        self.number(n as u64, &mut out);
        out
    }

    /// "Your expected wait is about N minutes."
    pub fn wait_minutes(&self, n: i64) -> Vec<Arc<Prompt>> {
        let n = n.max(1) as u64;
        let mut out = vec![self.get("queue-wait")];
        self.number(n, &mut out);
        out.push(self.get(if n == 1 { "minute" } else { "minutes" }));
        out
    }

    /// A number said from the shipped prompts `number-0` ... `number-20`,
    /// `number-30` ... `number-90` and `number-hundred`.
    fn number(&self, n: u64, out: &mut Vec<Arc<Prompt>>) {
        for name in number_words(n) {
            out.push(self.get(&name));
        }
    }
}

/// The prompt names that say `n` (0 to 999; larger numbers are said as
/// their digits).
pub fn number_words(n: u64) -> Vec<String> {
    let word = |k: u64| format!("number-{k}");
    if n >= 1000 {
        return n
            .to_string()
            .chars()
            .map(|d| format!("number-{d}"))
            .collect();
    }
    let mut out = Vec::new();
    let hundreds = n / 100;
    let rest = n % 100;
    if hundreds > 0 {
        out.push(word(hundreds));
        out.push("number-hundred".to_string());
        if rest == 0 {
            return out;
        }
    }
    if rest <= 20 {
        if rest > 0 || out.is_empty() {
            out.push(word(rest));
        }
    } else {
        out.push(word(rest / 10 * 10));
        if !rest.is_multiple_of(10) {
            out.push(word(rest % 10));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_said_in_words() {
        assert_eq!(number_words(0), ["number-0"]);
        assert_eq!(number_words(7), ["number-7"]);
        assert_eq!(number_words(20), ["number-20"]);
        assert_eq!(number_words(42), ["number-40", "number-2"]);
        assert_eq!(number_words(300), ["number-3", "number-hundred"]);
        assert_eq!(
            number_words(115),
            ["number-1", "number-hundred", "number-15"]
        );
        assert_eq!(number_words(1234).len(), 4);
    }

    #[test]
    fn the_shipped_prompts_say_every_announcement() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
        let (prompts, bad) = Prompts::load(&folder);
        assert!(bad.is_empty(), "{:?}", bad.first().map(|b| &b.reason));
        let mut names: Vec<String> = (0..=120).flat_map(number_words).collect();
        names.extend(
            ["queue-position", "queue-wait", "minute", "minutes", "beep"].map(String::from),
        );
        for name in names {
            assert!(prompts.find(&name).is_some(), "no prompt {name}.wav");
        }
        assert_eq!(prompts.get("no such prompt").duration_ms(), 500);
    }
}
