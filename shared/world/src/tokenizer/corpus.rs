//! The world's language as training text for the tokenizer.

use crate::scene::{Colour, Shape, Size};
use crate::tasks::{Item, number_word};
use crate::text::{Phrasing, describe_with, listed_answer, relation_listed_answer, short_phrasings};

/// Each item's question, short answer (bare, as "yes.", in the sampled responses' phrasings "Yes." and
/// "Yes, I think.", and listed: the scene read out first), and its objects described in every phrasing,
/// plus every attribute and number word. Callers add their own strings (critic prompts, ...). The listed
/// answers (relations' too, though only `world sft-data --listed-relations` writes those) give the
/// tokenizer the number words after a space and the words of a relation's cells ("row two column one"),
/// which it otherwise splits into pieces. Without the capitalised phrasings a 512-entry tokenizer split
/// "Red, I think." into `R e d , Ġ I Ġt hi n k .`, and a critic had to spell "Red" into "red" to copy the
/// answer (session 26).
pub fn world_corpus(items: &[Item]) -> Vec<String> {
    let mut corpus = Vec::new();
    for item in items {
        corpus.push(item.question.clone());
        if let Some(answer) = item.answer() {
            corpus.push(format!("{answer}."));
            corpus.extend(short_phrasings(answer));
        }
        if let Some(listed) = listed_answer(item).or_else(|| relation_listed_answer(item)) {
            corpus.push(listed);
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
