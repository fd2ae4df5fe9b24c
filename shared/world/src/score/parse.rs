//! Reading object mentions out of free text.
//!
//! The text is lower-cased and split into words at every character that is not an ASCII letter or digit
//! (so case, punctuation and non-ASCII junk do not matter). Each shape word ("circle", "circles", ...)
//! is a mention; the colour and size words directly before it (in either order, "big"/"tiny" accepted)
//! are its attributes. A mention preceded by a negation ("no", "not", "without", "nor", optionally with
//! an article in between: "not a red circle") is skipped. A plural shape after a number ("two red
//! circles", "2 circles") is that many mentions (at most nine); any other plural is one. Words that are
//! not in this vocabulary are ignored, so junk yields no mentions unless it contains a shape word.

use serde::{Deserialize, Serialize};

use crate::scene::{Colour, Shape, Size};

/// One object a response claims to see. Colour and size are `None` when the text does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mention {
    pub size: Option<Size>,
    pub colour: Option<Colour>,
    pub shape: Shape,
}

impl Mention {
    /// The mention as the world's descriptions word it, size, colour, shape: "large red circle", "red
    /// circle" where it gives no size, "circle" where it gives neither.
    pub fn words(&self) -> String {
        let words = [self.size.map(Size::word), self.colour.map(Colour::word), Some(self.shape.word())];
        words.into_iter().flatten().collect::<Vec<_>>().join(" ")
    }
}

const ARTICLES: [&str; 4] = ["a", "an", "one", "the"];
const NEGATIONS: [&str; 5] = ["no", "not", "without", "nor", "never"];
const NUMBERS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/// The mentions in `text`, in order (rules in the module documentation).
pub fn parse_mentions(text: &str) -> Vec<Mention> {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut mentions = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let Some(shape) = Shape::from_word(word) else { continue };
        let (mut colour, mut size) = (None, None);
        let mut start = i;
        while start > 0 {
            let prev = words[start - 1];
            match (Colour::from_word(prev), Size::from_word(prev)) {
                (Some(c), _) if colour.is_none() => colour = Some(c),
                (_, Some(z)) if size.is_none() => size = Some(z),
                _ => break,
            }
            start -= 1;
        }
        let before = |k: usize| start.checked_sub(k).and_then(|j| words.get(j)).copied();
        let negated = match before(1) {
            Some(w) if NEGATIONS.contains(&w) => true,
            Some(w) if ARTICLES.contains(&w) => before(2).is_some_and(|v| NEGATIONS.contains(&v)),
            _ => false,
        };
        if negated {
            continue;
        }
        let plural = *word == shape.plural() && shape.plural() != shape.word();
        let copies = if plural { before(1).and_then(number).unwrap_or(1).max(1) } else { 1 };
        mentions.extend(std::iter::repeat_n(Mention { size, colour, shape }, copies));
    }
    mentions
}

/// "two" or "2" → 2 (zero to nine only).
fn number(word: &str) -> Option<usize> {
    NUMBERS.iter().position(|n| *n == word).or_else(|| word.parse::<usize>().ok().filter(|n| *n <= 9))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(size: Option<Size>, colour: Option<Colour>, shape: Shape) -> Mention {
        Mention { size, colour, shape }
    }

    #[test]
    fn reads_attributes_articles_case_and_punctuation() {
        assert_eq!(
            parse_mentions("THERE IS a Large RED circle;an small blue Square!! one green triangle..."),
            vec![
                m(Some(Size::Large), Some(Colour::Red), Shape::Circle),
                m(Some(Size::Small), Some(Colour::Blue), Shape::Square),
                m(None, Some(Colour::Green), Shape::Triangle),
            ]
        );
        assert_eq!(parse_mentions("a red big cross"), vec![m(Some(Size::Large), Some(Colour::Red), Shape::Cross)]);
        assert_eq!(parse_mentions("a circle"), vec![m(None, None, Shape::Circle)]);
    }

    #[test]
    fn mentions_are_worded_size_colour_shape() {
        let words: Vec<String> =
            parse_mentions("a red big cross, a green triangle and a circle").iter().map(Mention::words).collect();
        assert_eq!(words, ["large red cross", "green triangle", "circle"]);
    }

    #[test]
    fn plurals_numbers_and_negations() {
        let red = m(None, Some(Colour::Red), Shape::Circle);
        assert_eq!(parse_mentions("two red circles"), vec![red, red]);
        assert_eq!(parse_mentions("2 red circles"), vec![red, red]);
        assert_eq!(parse_mentions("red circles"), vec![red]);
        assert_eq!(parse_mentions("crosses"), vec![m(None, None, Shape::Cross)]);
        assert!(parse_mentions("There is no red circle and not a blue square, without diamonds.").is_empty());
    }

    #[test]
    fn junk_gives_nothing() {
        for junk in ["", "the the blue", "red red red large", "circl squar", "\u{0}\u{ffff}é東京 🙂", "a an one the"]
        {
            assert!(parse_mentions(junk).is_empty(), "{junk:?}");
        }
    }
}
