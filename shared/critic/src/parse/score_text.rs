//! Reading a score written in prose after an anchor word: "Final Score: 85", "score of 7/10",
//! "I would rate this response 75 out of 100". Works on folded, lowercased text.

use super::number::{number_at, preceded_by_word, skip_spaces};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Candidate {
    pub(super) value: f64,
    /// The scale written after the number ("/10", "out of 100"), if any.
    pub(super) out_of: Option<f64>,
    /// Byte index just past the number and its scale.
    pub(super) end: usize,
}

/// Words that may sit between an anchor and its number.
const FILLERS: &[&str] = &[
    "is",
    "of",
    "a",
    "an",
    "it",
    "this",
    "the",
    "response",
    "answer",
    "caption",
    "would",
    "be",
    "at",
    "as",
    "to",
    "i",
    "give",
    "assign",
    "my",
    "final",
    "overall",
    "score",
    "for",
    "around",
    "about",
    "approximately",
];

/// Skip spaces, `:`/`-`/`=`/`,`/`(` and filler words from byte `i` (a few at most).
fn skip_fillers(s: &str, mut i: usize) -> usize {
    let bytes = s.as_bytes();
    for _ in 0..8 {
        i = skip_spaces(s, i);
        while matches!(bytes.get(i), Some(b':' | b'-' | b'=' | b',' | b'(' | b'"' | b'\'' | b' ' | b'\t')) {
            i += 1;
        }
        let word_end = (i..bytes.len()).find(|&j| !bytes[j].is_ascii_alphabetic()).unwrap_or(bytes.len());
        match s.get(i..word_end) {
            Some(word) if !word.is_empty() && FILLERS.contains(&word) => i = word_end,
            _ => break,
        }
    }
    i
}

/// The number after an anchor ending at byte `i`, with its scale if one is written.
pub(super) fn number_after(s: &str, i: usize) -> Option<Candidate> {
    let i = skip_fillers(s, i);
    number_here(s, i)
}

/// The number starting at byte `i` (not inside a word), with its scale if one is written.
pub(super) fn number_here(s: &str, i: usize) -> Option<Candidate> {
    if preceded_by_word(s, i) {
        return None;
    }
    let (value, end) = number_at(s, i)?;
    if s.as_bytes().get(end).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'%') {
        // "3rd", "2x", "80%" are not scores out of a scale
        return None;
    }
    match out_of(s, end) {
        Some((scale, after)) => Some(Candidate { value, out_of: Some(scale), end: after }),
        None => Some(Candidate { value, out_of: None, end }),
    }
}

/// "/100", " / 10", " out of 100" after byte `i`: the scale and the index past it.
fn out_of(s: &str, i: usize) -> Option<(f64, usize)> {
    let j = skip_spaces(s, i);
    let j = if s.as_bytes().get(j) == Some(&b'/') {
        skip_spaces(s, j + 1)
    } else if s.get(j..).is_some_and(|rest| rest.starts_with("out of")) {
        skip_spaces(s, j + "out of".len())
    } else {
        return None;
    };
    number_at(s, j)
}

/// Byte offsets where `word` occurs as a whole word in `s`.
pub(super) fn word_positions<'a>(s: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    s.match_indices(word).map(|(at, _)| at).filter(move |&at| {
        let before = at.checked_sub(1).and_then(|b| s.as_bytes().get(b));
        let after = s.as_bytes().get(at + word.len());
        !before.is_some_and(u8::is_ascii_alphabetic) && !after.is_some_and(u8::is_ascii_alphabetic)
    })
}
