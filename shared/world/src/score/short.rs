//! Exact match of short answers.
//!
//! Rule: both sides are lower-cased; the response's first word (the text up to the first character that
//! is not an ASCII letter or digit, after leading whitespace and punctuation) must equal the answer's
//! first word. Digits 0-9 count as their number words ("2" = "two"). So "Yes.", "yes, it is" and
//! "  YES" match "yes"; "It is yes" and "" do not.

const NUMBER_WORDS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/// The first word of `text`, lower-cased, with a single digit replaced by its number word (`""` if none).
pub fn normalise_answer(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let word = lower.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| !w.is_empty()).unwrap_or("");
    match word.parse::<usize>() {
        Ok(n) if n < NUMBER_WORDS.len() && word.len() == 1 => NUMBER_WORDS[n].to_string(),
        _ => word.to_string(),
    }
}

/// Whether `response` gives `answer` (rule in the module documentation). An empty answer matches nothing.
pub fn exact_match(response: &str, answer: &str) -> bool {
    let answer = normalise_answer(answer);
    !answer.is_empty() && normalise_answer(response) == answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_cases() {
        assert!(exact_match("yes", "yes"));
        assert!(exact_match("Yes.", "yes"));
        assert!(exact_match("yes, it is", "yes"));
        assert!(exact_match("  \"YES!\"\n", "yes"));
        assert!(exact_match("Red, I think.", "red"));
        assert!(exact_match("2", "two"));
        assert!(exact_match("two circles", "two"));
        assert!(!exact_match("no", "yes"));
        assert!(!exact_match("It is yes", "yes"));
        assert!(!exact_match("yesterday", "yes"));
        assert!(!exact_match("", "yes"));
        assert!(!exact_match("12", "one"));
        assert!(!exact_match("anything", ""));
        assert!(!exact_match("", ""));
    }
}
