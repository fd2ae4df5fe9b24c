//! The world's language as training text for the tokenizer.

use crate::scene::{Colour, Shape, Size};
use crate::tasks::{Item, number_word};
use crate::text::{Phrasing, describe_with};

/// Each item's question, short answer (bare and as "Yes." style), and its objects described in every
/// phrasing, plus every attribute and number word. Callers add their own strings (critic prompts, ...).
pub fn world_corpus(items: &[Item]) -> Vec<String> {
    let mut corpus = Vec::new();
    for item in items {
        corpus.push(item.question.clone());
        if let Some(answer) = item.answer() {
            corpus.push(answer.to_string());
            corpus.push(format!("{answer}."));
        }
        for phrasing in Phrasing::ALL {
            corpus.push(describe_with(item.objects(), phrasing));
        }
    }
    let words: Vec<String> = Colour::ALL
        .iter()
        .map(|c| c.word().to_string())
        .chain(Shape::ALL.iter().flat_map(|s| [s.word().to_string(), s.plural().to_string()]))
        .chain(Size::ALL.iter().map(|z| z.word().to_string()))
        .chain((0..10).map(number_word))
        .chain(["yes", "no", "Yes", "No"].map(String::from))
        .collect();
    corpus.push(words.join(" "));
    corpus
}
