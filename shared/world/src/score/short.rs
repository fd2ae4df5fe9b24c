//! Exact match of short answers.
//!
//! Rule: both sides are lower-cased; the response's first word (the text up to the first character that
//! is not an ASCII letter or digit, after leading whitespace and punctuation) must equal the answer's
//! first word. Digits 0-9 count as their number words ("2" = "two"). So "Yes.", "yes, it is" and
//! "  YES" match "yes"; "It is yes" and "" do not.
//!
//! A listed answer (`world::listed_answer`: the scene read out shape first, "cross blue, square red.",
//! then the entries of the asked shape, then the answer) gives its answer last: a response whose first
//! sentence is such a listing and which goes on after it is read by its last word instead. So "cross blue,
//! square red. square red. one." matches "one", and "cross blue, square red. cross blue." matches "blue".
//! A relation's positioned listing (`world::text::relation_listed_answer`, each entry with its grid cell:
//! "cross blue row one column six, square red row two column three.") is read the same way. A listing
//! alone ("cross blue.") answers nothing and is read by its first word, like any other text.

use crate::scene::{Colour, Shape};

const NUMBER_WORDS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/// The answer word of `text` (its first word, or a listed answer's last: module documentation),
/// lower-cased, with a single digit replaced by its number word (`""` if none).
pub fn normalise_answer(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut words = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty());
    let word = if is_listed(&lower) { words.next_back() } else { words.next() }.unwrap_or("");
    match word.parse::<usize>() {
        Ok(n) if n < NUMBER_WORDS.len() && word.len() == 1 => NUMBER_WORDS[n].to_string(),
        _ => word.to_string(),
    }
}

/// Whether `text` (lower case) opens with a listing, "cross blue, square red." or "cross blue row one
/// column six, square red row two column three.", and goes on after it.
fn is_listed(text: &str) -> bool {
    let Some((listing, rest)) = text.trim_start().split_once('.') else { return false };
    let named = |shape: &str, colour: &str| Shape::from_word(shape).is_some() && Colour::from_word(colour).is_some();
    let entry = |e: &str| {
        let words: Vec<&str> = e.split_whitespace().collect();
        match words[..] {
            [shape, colour] => named(shape, colour),
            [shape, colour, "row", row, "column", column] => {
                named(shape, colour) && NUMBER_WORDS.contains(&row) && NUMBER_WORDS.contains(&column)
            }
            _ => false,
        }
    };
    listing.split(',').all(entry) && rest.chars().any(|c| c.is_ascii_alphanumeric())
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

    #[test]
    fn listed_answers_are_read_by_their_last_word() {
        assert!(exact_match("cross blue, square white, square red. square white, square red. two.", "two"));
        assert!(exact_match("cross blue, square red. cross blue.", "blue"));
        assert!(exact_match("Cross blue. circle none. no.", "no"));
        assert!(!exact_match("cross blue, square red. cross blue.", "red"), "the entry found decides");
        let relation = "cross blue row one column six, square red row six column three. square red column three, \
                        cross blue column six. yes.";
        assert!(exact_match(relation, "yes"));
        assert_eq!(normalise_answer("cross blue row one, square red. no."), "cross", "a cell is a row and a column");
        // a listing alone answers nothing, and ordinary text is still read by its first word
        assert_eq!(normalise_answer("cross blue."), "cross");
        assert_eq!(normalise_answer("Yes. There is a red cross."), "yes");
        assert_eq!(normalise_answer("red cross, I think. blue."), "red");
        assert_eq!(normalise_answer("cross blue, square. two."), "cross", "every entry is a shape and a colour");
    }
}
