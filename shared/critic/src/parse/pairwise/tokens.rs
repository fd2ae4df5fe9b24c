//! A tiny tokenizer for folded, lowercased critic text: words (letters, digits, inner apostrophes) and
//! single punctuation characters; a newline is kept as punctuation because it ends a sentence.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    Word(&'a str),
    Punct(char),
}

impl<'a> Tok<'a> {
    pub(super) fn word(self) -> Option<&'a str> {
        match self {
            Tok::Word(w) => Some(w),
            Tok::Punct(_) => None,
        }
    }

    pub(super) fn is_word(self, w: &str) -> bool {
        self.word() == Some(w)
    }

    pub(super) fn is_word_in(self, set: &[&str]) -> bool {
        self.word().is_some_and(|w| set.contains(&w))
    }

    pub(super) fn is_punct(self, c: char) -> bool {
        self == Tok::Punct(c)
    }

    /// Sentence-ending punctuation.
    pub(super) fn ends_sentence(self) -> bool {
        matches!(self, Tok::Punct('.' | '!' | '?' | '\n' | ';'))
    }
}

/// "response 1's" -> "1", "'s"; a stray leading/trailing apostrophe is not part of the word.
fn push_word<'a>(toks: &mut Vec<Tok<'a>>, w: &'a str) {
    let w = w.trim_matches('\'');
    if w.is_empty() {
        return;
    }
    if let Some(stem) = w.strip_suffix("'s").filter(|s| !s.is_empty()) {
        toks.push(Tok::Word(stem));
        toks.push(Tok::Word("'s"));
    } else {
        toks.push(Tok::Word(w));
    }
}

pub(super) fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let in_word = c.is_alphanumeric() || (c == '\'' && word_start.is_some());
        match (in_word, word_start) {
            (true, None) => word_start = Some(i),
            (true, Some(_)) => {}
            (false, start) => {
                if let Some(s) = start {
                    push_word(&mut toks, &text[s..i]);
                    word_start = None;
                }
                if !c.is_whitespace() || c == '\n' {
                    toks.push(Tok::Punct(c));
                }
            }
        }
    }
    if let Some(s) = word_start {
        push_word(&mut toks, &text[s..]);
    }
    toks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_and_punctuation() {
        let toks = tokenize("the better response: [1]. response 2's tone\nisn't");
        assert_eq!(
            toks,
            vec![
                Tok::Word("the"),
                Tok::Word("better"),
                Tok::Word("response"),
                Tok::Punct(':'),
                Tok::Punct('['),
                Tok::Word("1"),
                Tok::Punct(']'),
                Tok::Punct('.'),
                Tok::Word("response"),
                Tok::Word("2"),
                Tok::Word("'s"),
                Tok::Word("tone"),
                Tok::Punct('\n'),
                Tok::Word("isn't"),
            ]
        );
    }
}
