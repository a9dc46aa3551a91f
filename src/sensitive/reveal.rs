//! Putting originals back: every known surrogate in a text replaced by its original, whole or
//! as a stream of pieces. A stream holds back only what could still be the start of a
//! surrogate, so a surrogate split across SSE events is restored whole and nothing waits longer
//! than a surrogate's length.

use aho_corasick::{AhoCorasick, MatchKind};

/// Known surrogates and their originals, compiled.
pub struct Revealer {
    surrogates: Vec<String>,
    originals: Vec<String>,
    automaton: Option<AhoCorasick>,
    longest: usize,
}

impl Revealer {
    pub fn new(pairs: Vec<(String, String)>) -> Revealer {
        let (surrogates, originals): (Vec<String>, Vec<String>) =
            pairs.into_iter().filter(|(s, _)| !s.is_empty()).unzip();
        let automaton = (!surrogates.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&surrogates)
                .expect("surrogates are short literals")
        });
        let longest = surrogates.iter().map(String::len).max().unwrap_or(0);
        Revealer {
            surrogates,
            originals,
            automaton,
            longest,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.surrogates.is_empty()
    }

    /// `text` with every surrogate replaced, `None` when it holds none.
    pub fn reveal(&self, text: &str) -> Option<String> {
        let automaton = self.automaton.as_ref()?;
        if !automaton.is_match(text) {
            return None;
        }
        Some(automaton.replace_all(text, &self.originals))
    }

    /// Where the text to emit ends: before the earliest tail that could still grow into a
    /// surrogate, and never inside a surrogate that is already whole.
    fn cut(&self, text: &str) -> usize {
        let Some(automaton) = &self.automaton else {
            return text.len();
        };
        let window = text.len().saturating_sub(self.longest.saturating_sub(1));
        let mut cut = text.len();
        for at in (window..text.len()).filter(|&i| text.is_char_boundary(i)) {
            let tail = &text[at..];
            if self
                .surrogates
                .iter()
                .any(|s| s.len() > tail.len() && s.starts_with(tail))
            {
                cut = at;
                break;
            }
        }
        for m in automaton.find_iter(text) {
            if m.start() < cut && m.end() > cut {
                return m.start();
            }
            if m.start() >= cut {
                break;
            }
        }
        cut
    }
}

/// One stream's restoration in progress: what is held back. Each call takes the
/// [`Revealer`] it restores with.
#[derive(Debug, Default)]
pub struct StreamReveal {
    pending: String,
}

impl StreamReveal {
    /// Takes the next piece; returns what can be emitted now.
    pub fn push(&mut self, revealer: &Revealer, piece: &str) -> String {
        self.pending.push_str(piece);
        let cut = revealer.cut(&self.pending);
        let rest = self.pending.split_off(cut);
        let ready = std::mem::replace(&mut self.pending, rest);
        revealer.reveal(&ready).unwrap_or(ready)
    }

    /// What is still held back, restored: call at the stream's end.
    pub fn finish(&mut self, revealer: &Revealer) -> String {
        let ready = std::mem::take(&mut self.pending);
        revealer.reveal(&ready).unwrap_or(ready)
    }

    /// Bytes held back right now.
    pub fn held(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revealer() -> Revealer {
        Revealer::new(vec![
            ("k3x9q2abmn@pii.invalid".into(), "jane@acme.io".into()),
            ("240.1.2.3".into(), "81.2.69.160".into()),
            ("240.1.2.35".into(), "81.2.69.161".into()),
            ("+999 20 1234 5678".into(), "+44 20 7946 0958".into()),
        ])
    }

    #[test]
    fn whole_texts_are_revealed() {
        let r = revealer();
        assert_eq!(
            r.reveal("mail k3x9q2abmn@pii.invalid from 240.1.2.35")
                .unwrap(),
            "mail jane@acme.io from 81.2.69.161"
        );
        assert_eq!(r.reveal("nothing here"), None);
        assert_eq!(Revealer::new(vec![]).reveal("x"), None);
    }

    #[test]
    fn any_split_gives_the_whole_and_holds_back_less_than_a_surrogate() {
        let r = revealer();
        let text =
            "a k3x9q2abmn@pii.invalid, 240.1.2.3 and 240.1.2.35; +999 20 1234 5678 k3x9 240.1.";
        let whole = r.reveal(text).unwrap();
        // Every split into three pieces.
        for i in 0..=text.len() {
            for j in i..=text.len() {
                let mut s = StreamReveal::default();
                let mut out = s.push(&r, &text[..i]);
                assert!(s.held() < r.longest);
                out += &s.push(&r, &text[i..j]);
                out += &s.push(&r, &text[j..]);
                out += &s.finish(&r);
                assert_eq!(out, whole, "split at {i}, {j}");
            }
        }
    }
}
