//! Number scanning without regex: `[+-]?(digits[.digits]|.digits)`, ASCII only, always finite.

/// A whole token that is a number (`8`, `8.5`, `9.`, `.5`, `-1`); Python-`float` compatible for these
/// forms, but never `nan`/`inf`.
pub(crate) fn token_number(token: &str) -> Option<f64> {
    let (value, end) = number_at(token, 0)?;
    if end == token.len() { Some(value) } else { None }
}

/// The number starting at byte `start` of `s`, with the byte index just past it. A trailing `.` with no
/// digits after it is not part of the number (so "9." at a sentence end reads 9, end before the dot),
/// except by [`token_number`], which accepts a whole token "9." as Python does.
pub(crate) fn number_at(s: &str, start: usize) -> Option<(f64, usize)> {
    let bytes = s.as_bytes();
    let mut i = start;
    if matches!(bytes.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut end = i;
    if bytes.get(i) == Some(&b'.') {
        let frac_start = i + 1;
        let mut j = frac_start;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > frac_start {
            end = j;
        } else if int_digits > 0 && j == bytes.len() && start == 0 {
            // "9." as a whole token
            end = j;
        }
    }
    if int_digits == 0 && end == i {
        return None;
    }
    // Every byte in start..end is ASCII, so these are char boundaries.
    let text = s.get(start..end)?;
    let value: f64 = text.trim_end_matches('.').parse().ok()?;
    value.is_finite().then_some((value, end))
}

/// Skip ASCII spaces and tabs from byte `i`.
pub(crate) fn skip_spaces(s: &str, mut i: usize) -> usize {
    let bytes = s.as_bytes();
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// Whether the byte before `i` continues a word (so a number found at `i` is part of something else).
pub(crate) fn preceded_by_word(s: &str, i: usize) -> bool {
    i > 0 && s.as_bytes().get(i - 1).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(token_number("8"), Some(8.0));
        assert_eq!(token_number("9."), Some(9.0));
        assert_eq!(token_number(".5"), Some(0.5));
        assert_eq!(token_number("-1"), Some(-1.0));
        assert_eq!(token_number("nan"), None);
        assert_eq!(token_number("1:"), None);
        assert_eq!(token_number("."), None);
        assert_eq!(number_at("75/100", 0), Some((75.0, 2)));
        assert_eq!(number_at("score 9. Next", 6), Some((9.0, 7)));
        assert_eq!(number_at("0.85 x", 0), Some((0.85, 4)));
    }
}
