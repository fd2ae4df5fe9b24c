//! Critic instruction data from the ground truth, the LLaVA-Critic way. For two responses to an item, a
//! pairwise judgment that first copies what each response says (a short answer, or a description word for
//! word), then says what the image shows (the answer to a short question, after the scene read out and the
//! asked shape looked up where the question names one, or every object for a description), then what each
//! response gets right, misses or invents, ending in LLaVA-Critic's verdict sentence: "The better response:
//! [1]." / "The better response: [2]." / "Two responses are equally good.". For one response, a pointwise
//! judgment ending in "Score: N" (out of 100). The verdict is the oracle's ([`better`]), so a critic trained
//! on this data learns the ground truth's preferences, ties included; the score is 100 for a right short
//! answer and 0 for a wrong one, and 100 x F1 for a description.
//!
//! Saying what the image shows first makes a critic answer the question itself before it compares: a
//! critic trained without that sentence learned to copy the two responses and call both "correct" (it
//! judged from the text alone, session 6); with it, every judgment is also a visual-question-answering
//! example, and the verdict follows from the critic's own reading of the image. Each decision then sits
//! beside what it compares: a short response's answer beside the reference answer ("answers \"no\"; the
//! answer is \"yes\", so it is wrong"), each object a description mentions beside whether the image has
//! it, and a description's sentence ends in its score, so the verdict compares two numbers.

use std::cmp::Ordering;

use crate::scene::{Colour, Object};
use crate::score::{Mention, better, match_mentions, normalise_answer, parse_mentions, score_description};
use crate::tasks::Truth;
use crate::text::{in_reading_order, join_and, keyed_name, listing_and_lookup};

/// The ground truth's verdict on an ordered pair of responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairVerdict {
    First,
    Second,
    Tie,
}

impl PairVerdict {
    /// The ground truth's verdict on `first` (shown first) against `second` ([`better`]).
    pub fn of(truth: &Truth, first: &str, second: &str) -> Self {
        match better(truth, first, second) {
            Ordering::Greater => PairVerdict::First,
            Ordering::Less => PairVerdict::Second,
            Ordering::Equal => PairVerdict::Tie,
        }
    }
}

/// A short response's answer, normalised, beside the expected one.
#[derive(Debug, Clone, PartialEq)]
struct ShortAnswer {
    given: String,
    expected: String,
    right: bool,
}

impl ShortAnswer {
    /// "Response 1 answers \"two\"" or "Response 1 gives no answer": the same words where the judgment
    /// first copies the answer and where it repeats the copy beside the reference.
    fn said(&self, label: &str) -> String {
        if self.given.is_empty() {
            format!("{label} gives no answer")
        } else {
            format!("{label} answers \"{}\"", self.given)
        }
    }
}

/// One object a description mentions, as the judgment walks it: the mention in the response's words
/// ("small red circle", or "circle" where it gives neither colour nor size), its lookups in the image
/// ([`lookups`]: "circle red large, circle blue small; red: circle red large; small: none"), and whether
/// the image has it.
#[derive(Debug, Clone, PartialEq)]
struct Checked {
    words: String,
    lookups: String,
    seen: bool,
}

/// What a response gets right and wrong, and its score out of 100: 100 for a right short answer and 0 for
/// a wrong one, 100 x F1 for a description.
#[derive(Debug, Clone, PartialEq)]
struct Assessment {
    /// Short answers only.
    answer: Option<ShortAnswer>,
    /// Descriptions: each object the response mentions, in its order; then the image's objects it leaves
    /// out, shape first, in reading order.
    mentioned: Vec<Checked>,
    missed: Vec<String>,
    score: u32,
}

/// "circle red large, circle blue small", or "none".
fn names(objects: &[&Object]) -> String {
    if objects.is_empty() {
        "none".to_string()
    } else {
        objects.iter().copied().map(keyed_name).collect::<Vec<_>>().join(", ")
    }
}

/// A mention looked up in the image (`in_order`, its objects in reading order) one word at a time, each
/// step keeping the previous step's objects that agree with one more of the mention's words: the objects
/// of its shape, then those of its colour ("red: circle red large"), then those of its size ("small:
/// none"). The walk stops at the first "none". A mention without a colour matches nothing (as
/// [`match_mentions`] scores it), so its colour step is "no colour: none"; one without a size has no size
/// step. Scenes hold distinct (colour, shape) kinds, so the colour step keeps at most one object, and the
/// last list is the object the mention names or "none": whether the image has it is read off the step
/// before the decision rather than decided by comparing two names.
fn lookups(mention: &Mention, in_order: &[&Object]) -> String {
    let mut kept: Vec<&Object> = in_order.iter().copied().filter(|o| o.shape == mention.shape).collect();
    let mut steps = vec![names(&kept)];
    let colour = mention.colour.map_or("no colour", Colour::word);
    if !kept.is_empty() {
        kept.retain(|o| Some(o.colour) == mention.colour);
        steps.push(format!("{colour}: {}", names(&kept)));
    }
    if let Some(size) = mention.size
        && !kept.is_empty()
    {
        kept.retain(|o| o.size == size);
        steps.push(format!("{}: {}", size.word(), names(&kept)));
    }
    steps.join("; ")
}

fn assess(truth: &Truth, response: &str) -> Assessment {
    if let Some(expected) = &truth.answer {
        let (given, expected) = (normalise_answer(response), normalise_answer(expected));
        let right = !given.is_empty() && given == expected;
        let answer = Some(ShortAnswer { given, expected, right });
        return Assessment { answer, mentioned: vec![], missed: vec![], score: 100 * u32::from(right) };
    }
    let objects = &truth.scene.objects;
    let in_order = in_reading_order(&truth.scene);
    let mentions = parse_mentions(response);
    let matches = match_mentions(&mentions, objects);
    let mentioned = mentions
        .iter()
        .zip(&matches)
        .map(|(mention, matched)| Checked {
            words: mention.words(),
            lookups: lookups(mention, &in_order),
            seen: matched.is_some(),
        })
        .collect();
    let mut missed: Vec<&Object> =
        (0..objects.len()).filter(|i| !matches.contains(&Some(*i))).map(|i| &objects[i]).collect();
    missed.sort_by_key(|o| o.reading_key(truth.scene.width));
    let missed = missed.into_iter().map(keyed_name).collect();
    let score = (100.0 * score_description(response, objects).f1).round() as u32;
    Assessment { answer: None, mentioned, missed, score }
}

/// "circle red large, square blue small", or "nothing".
fn list(names: &[String]) -> String {
    if names.is_empty() { "nothing".to_string() } else { names.join(", ") }
}

/// What the image shows: for a colour, presence or count question the scene read out and the asked
/// shape looked up, then the answer ("cross blue, square white, square red. square white, square red. The
/// answer is two."); for a relation the answer alone ("The answer is yes."); for a description the objects
/// shape first in reading order, "The image shows circle red large, square blue small.".
///
/// The listing is the listed answer's (`world::listed_answer`): a model that reads the scene out and looks
/// the shape up in its own text answers colour questions right where a one-word answer stays near a
/// random pick among the scene's colours (README, session 13). Listing the objects without the lookup made
/// the reference answer no better (session 10).
fn reference(question: &str, truth: &Truth) -> String {
    match &truth.answer {
        Some(answer) => {
            let answer = normalise_answer(answer);
            match listing_and_lookup(question, truth) {
                Some((listing, entries)) => format!("{listing} {entries}. The answer is {answer}."),
                None => format!("The answer is {answer}."),
            }
        }
        None => {
            let names: Vec<String> = in_reading_order(&truth.scene).into_iter().map(keyed_name).collect();
            format!("The image shows {}.", list(&names))
        }
    }
}

/// One sentence on a response: "Response 1 answers \"two\"; the answer is \"three\", so it is wrong." or
/// "Response 2 mentions large red circle: circle red large, circle blue small; red: circle red large;
/// large: circle red large; which is in the image, and small green triangle: none; which is not; it misses
/// square blue small: score 67.".
///
/// Each sentence puts the comparison beside the decision. A short answer and the reference answer sit a
/// few tokens before "correct" / "wrong" (a critic trained on sentences that gave the reference once, at
/// the start, learned the words after "which is" from the data's prior rather than from the comparison:
/// session 7). A description is walked mention by mention: each is copied from the response in its words,
/// then looked up in the image by shape, colour and size in turn ([`lookups`]), then whether the image has
/// it ("which is in the image" / "which is not"); then the image's objects it leaves out, then its score
/// (100 x F1, as the pointwise rows give it), so the verdict compares two numbers. A critic trained on
/// sentences that listed what a response names, misses and invents as three sets copied its own reference
/// list instead of the response's (session 9). One that walked the mentions in the descriptions' words
/// ("the small red circle, which is not") decided by the prior (sessions 10 to 19): the decision is a
/// lookup by content, which a model learns shape first, as the listed answers look a shape up
/// (`scripts/world/mention_probe.py`, README "Session 20"). With the shape lookup alone ("circle red small:
/// circle red large; which is not") the critic wrote the lookup right and still decided by the prior
/// (session 21: 13 of 32 absent mentions called "not"); a lookup that ends in "none" was followed by the
/// right word every time (session 20's probe), hence the colour and size steps. With them the decisions
/// follow the critic's own last step every time, and its first failure is the copy: restated shape first
/// ("circle red small" for "small red circle"), the walked mentions were the response's only 69 times in
/// 228 (session 22, `scripts/world/walk_check.py`): it repeated one or lost its place, as a reordered copy
/// cannot be found again in the response to read on from. Copied in the response's words, the walk was no
/// better (55 times in 228, session 22); each mention is now read from the response copied whole before
/// the image ([`copied`]).
fn sentence(label: &str, a: &Assessment) -> String {
    if let Some(answer) = &a.answer {
        // an empty answer is never right
        let judged = if answer.right { "correct" } else { "wrong" };
        return format!("{}; the answer is \"{}\", so it is {judged}.", answer.said(label), answer.expected);
    }
    let walked: Vec<String> = a
        .mentioned
        .iter()
        .map(|m| {
            let decision = if m.seen { "in the image" } else { "not" };
            format!("{}: {}; which is {decision}", m.words, m.lookups)
        })
        .collect();
    let mentions = if walked.is_empty() { "nothing".to_string() } else { join_and(&walked, ", and ") };
    format!("{label} mentions {mentions}; it misses {}: score {}.", list(&a.missed), a.score)
}

/// What a response says, copied from it before anything else is written: a short response's answer,
/// "Response 1 answers \"two\"." (or "Response 1 gives no answer."), or a description whole and word for
/// word, "Response 1 says \"There is a large red circle and a small blue square.\"".
///
/// A critic whose first copy of an answer came after its own reference answer wrote the reference where a
/// differing response's answer belonged (session 14's probe: 1 of 11 differing answers of listed responses
/// copied right), and then called the wrong answer correct. Copied first, the answer can only come from the
/// response; the sentence after the reference copies it again from the critic's own text. A description's
/// mentions were copied one at a time, each between the previous one's lookups, and the critic walked the
/// response's mentions right 55 times in 228, binding a colour or shape word to the wrong mention (session
/// 22). Copied first as a list ("Response 1 mentions large red circle, small blue square."), the list was
/// right 42 times in 228 and the walk 37 (session 23; teacher forced, the copied colour words were right
/// 124 times in 279): a list with the articles and "and" left out matches the response only word by word.
/// Copied word for word, each token follows the same tokens as in the response, and the copy was right 98
/// times in 228, the walk 95 (session 23, `scripts/world/walk_check.py`).
fn copied(label: &str, a: &Assessment, response: &str) -> String {
    match &a.answer {
        Some(answer) => format!("{}.", answer.said(label)),
        None => format!("{label} says \"{}\"", response.trim()),
    }
}

/// The verdict of the ground truth on (`first`, `second`) and the judgment a critic should write: what each
/// response says ([`copied`]), what the image shows, one sentence per response, then LLaVA-Critic's verdict
/// sentence.
pub fn pairwise_judgment(question: &str, truth: &Truth, first: &str, second: &str) -> (PairVerdict, String) {
    let verdict = PairVerdict::of(truth, first, second);
    let closing = match verdict {
        PairVerdict::First => "The better response: [1].",
        PairVerdict::Second => "The better response: [2].",
        PairVerdict::Tie => "Two responses are equally good.",
    };
    let (a, b) = (assess(truth, first), assess(truth, second));
    let copies = copies_of(&a, first, &b, second);
    let compared = scores_compared(&a, &b, verdict);
    let (a, b) = (sentence("Response 1", &a), sentence("Response 2", &b));
    (verdict, format!("{copies} {} {a} {b}{compared}\n{closing}", reference(question, truth)))
}

fn copies_of(a: &Assessment, first: &str, b: &Assessment, second: &str) -> String {
    format!("{} {}", copied("Response 1", a, first), copied("Response 2", b, second))
}

/// The opening of [`pairwise_judgment`] alone: each response copied ([`copied`]), "Response 1 says \"...\"
/// Response 2 says \"...\"". A critic stage trained on it puts the whole loss on the copy, as critic
/// stages 1 and 1b put it on the answer comparison before the judgment's other steps share it. 500 steps of
/// it alone wrote the copy's structure and picked its content words near chance (session 24).
pub fn pairwise_copies(truth: &Truth, first: &str, second: &str) -> String {
    copies_of(&assess(truth, first), first, &assess(truth, second), second)
}

/// The opening of [`pointwise_judgment`] alone: "The response says \"...\"" (or "The response answers
/// \"two\".").
pub fn pointwise_copy(truth: &Truth, response: &str) -> String {
    copied("The response", &assess(truth, response), response)
}

/// Two descriptions' scores side by side before the verdict: " Scores 67 and 50: the first is higher." (or
/// "the second is higher", or "the same"); nothing for short answers, whose verdict follows from "correct"
/// and "wrong".
///
/// Each score ends its own sentence, a few hundred tokens apart, and a critic that wrote them itself called
/// a tie once where its two scores were equal 33 times (session 22, `scripts/world/walk_check.py`): the
/// comparison is made where the two numbers sit next to each other, as a short answer's sits beside the
/// reference. The words follow the oracle's verdict, which compares the unrounded F1.
fn scores_compared(a: &Assessment, b: &Assessment, verdict: PairVerdict) -> String {
    if a.answer.is_some() || b.answer.is_some() {
        return String::new();
    }
    let which = match verdict {
        PairVerdict::First => "the first is higher",
        PairVerdict::Second => "the second is higher",
        PairVerdict::Tie => "the same",
    };
    format!(" Scores {} and {}: {which}.", a.score, b.score)
}

/// The score (out of 100) the ground truth gives `response`, and the judgment a critic should write.
pub fn pointwise_judgment(question: &str, truth: &Truth, response: &str) -> (u32, String) {
    let a = assess(truth, response);
    let (copy, reference) = (copied("The response", &a, response), reference(question, truth));
    (a.score, format!("{copy} {reference} {}\nScore: {}", sentence("The response", &a), a.score))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WorldConfig;
    use crate::scene::{Colour, Shape};
    use crate::tasks::{Family, Item};
    use crate::text::{describe, describe_imperfect};

    fn item(seed: u64, family: Family) -> Item {
        let config = WorldConfig { min_objects: 3, max_objects: 3, ..WorldConfig::default() };
        Item::generate(seed, Some(family), &config).expect("an item")
    }

    #[test]
    fn pairwise_judgments_follow_the_oracle_and_name_the_differences() {
        let d = item(3, Family::Describe);
        let objects = d.objects();
        let perfect = describe(objects);
        let omitting = describe_imperfect(d.scene(), &[1], &[]);
        let (v, text) = pairwise_judgment(&d.question, &d.truth, &perfect, &omitting);
        assert_eq!(v, PairVerdict::First, "{text}");
        assert!(
            text.ends_with("score 80. Scores 100 and 80: the first is higher.\nThe better response: [1]."),
            "{text}"
        );
        let names: Vec<String> = in_reading_order(d.scene()).into_iter().map(keyed_name).collect();
        assert!(text.contains(&format!("it misses {}: score 80.", keyed_name(&objects[1]))), "{text}");
        // each mention restated shape first, then the image's objects of its shape, of its colour among
        // those, of its size among those, then the decision
        let same_shape = |shape: Shape| -> String {
            let same: Vec<String> =
                in_reading_order(d.scene()).into_iter().filter(|o| o.shape == shape).map(keyed_name).collect();
            same.join(", ")
        };
        let walk = |i: usize| {
            let o = &objects[i];
            let (name, colour, size) = (keyed_name(o), o.colour.word(), o.size.word());
            let said = o.full_name();
            format!("{said}: {}; {colour}: {name}; {size}: {name}; which is in the image", same_shape(o.shape))
        };
        let walked =
            format!("Response 1 mentions {}, {}, and {}; it misses nothing: score 100.", walk(0), walk(1), walk(2));
        // first each response copied whole, word for word
        let copies = format!("Response 1 says \"{perfect}\" Response 2 says \"{omitting}\" ");
        assert!(text.starts_with(&format!("{copies}The image shows {}. {walked}", names.join(", "))), "{text}");
        let (v, text) = pairwise_judgment(&d.question, &d.truth, &omitting, &perfect);
        assert_eq!(v, PairVerdict::Second);
        assert!(text.ends_with("Scores 80 and 100: the second is higher.\nThe better response: [2]."), "{text}");
        // an object the image does not have is walked where the response mentions it, its shape looked up
        let mut ghost = objects[0];
        ghost.colour = Colour::ALL.into_iter().find(|c| objects.iter().all(|o| o.colour != *c)).expect("a free colour");
        let inventing = describe_imperfect(d.scene(), &[2], &[ghost]);
        let (v, text) = pairwise_judgment(&d.question, &d.truth, &inventing, &perfect);
        assert_eq!(v, PairVerdict::Second, "{text}");
        // its colour step keeps nothing, and the walk stops there
        let ghost_walked = format!(
            "{}: {}; {}: none; which is not; it misses {}: score 67.",
            ghost.full_name(),
            same_shape(ghost.shape),
            ghost.colour.word(),
            keyed_name(&objects[2])
        );
        assert!(text.contains(&format!("Response 1 mentions {}, {}, and {ghost_walked}", walk(0), walk(1))), "{text}");
        // an object of the image's shape and colour at the other size ends in "none" at its size step
        let mut resized = objects[0];
        resized.size = resized.size.other();
        let (_, text) = pairwise_judgment(&d.question, &d.truth, &describe(&[resized]), &perfect);
        let resized_walked = format!(
            "Response 1 mentions {}: {}; {}: {}; {}: none; which is not;",
            resized.full_name(),
            same_shape(resized.shape),
            resized.colour.word(),
            keyed_name(&objects[0]),
            resized.size.word()
        );
        assert!(text.contains(&resized_walked), "{text}");
        // a mention without a colour matches nothing, as the score counts it
        let shape = objects[0].shape;
        let (_, text) = pairwise_judgment(&d.question, &d.truth, &format!("There is a {}.", shape.word()), &perfect);
        assert!(
            text.starts_with(&format!("Response 1 says \"There is a {}.\" Response 2 says ", shape.word())),
            "{text}"
        );
        let uncoloured =
            format!("Response 1 mentions {}: {}; no colour: none; which is not;", shape.word(), same_shape(shape));
        assert!(text.contains(&uncoloured), "{text}");
        // a shape the image does not have is looked up as "none"
        let absent = Shape::ALL.into_iter().find(|s| objects.iter().all(|o| o.shape != *s)).expect("a free shape");
        let (_, text) =
            pairwise_judgment(&d.question, &d.truth, &format!("There is a small red {}.", absent.word()), &perfect);
        assert!(
            text.contains(&format!("Response 1 mentions small red {}: none; which is not;", absent.word())),
            "{text}"
        );
        // the copy stage's target is that opening alone
        assert_eq!(pairwise_copies(&d.truth, &perfect, &omitting), copies.trim_end());
        let (v, text) = pairwise_judgment(&d.question, &d.truth, &perfect, &perfect);
        assert_eq!(v, PairVerdict::Tie);
        assert!(text.ends_with("Scores 100 and 100: the same.\nTwo responses are equally good."), "{text}");

        let s = item(4, Family::Count);
        let answer = s.answer().expect("a short answer").to_string();
        let (v, text) = pairwise_judgment(&s.question, &s.truth, "zebra", &answer);
        assert_eq!(v, PairVerdict::Second);
        let (listing, entries) = listing_and_lookup(&s.question, &s.truth).expect("a count question is listed");
        let copies = format!("Response 1 answers \"zebra\". Response 2 answers \"{}\". ", normalise_answer(&answer));
        let reference = format!("{listing} {entries}. The answer is {}. ", normalise_answer(&answer));
        assert!(text.starts_with(&format!("{copies}{reference}")), "{text}");
        let wrong =
            format!("Response 1 answers \"zebra\"; the answer is \"{}\", so it is wrong.", normalise_answer(&answer));
        assert!(text.contains(&wrong), "{text}");
        assert!(!text.contains("Scores"), "short answers are compared by their words: {text}");
        let (v, _) = pairwise_judgment(&s.question, &s.truth, "zebra", "giraffe");
        assert_eq!(v, PairVerdict::Tie, "two wrong answers tie");
        // a listed response is judged by its answer, its last word
        let listed = crate::text::listed_answer(&s).expect("a listed answer");
        let (v, text) = pairwise_judgment(&s.question, &s.truth, &listed, "zebra");
        assert_eq!(v, PairVerdict::First, "{text}");
        let right = format!("Response 1 answers \"{}\"; the answer is", normalise_answer(&answer));
        assert!(text.contains(&right) && text.contains("so it is correct."), "{text}");
        let r = item(7, Family::Relation);
        let (_, text) = pairwise_judgment(&r.question, &r.truth, "yes", "no");
        // relations are not listed (text/positions.rs): the reference is the answer alone
        let reference = format!("The answer is {}. ", r.answer().expect("yes or no"));
        let copies = "Response 1 answers \"yes\". Response 2 answers \"no\". ";
        assert!(text.starts_with(&format!("{copies}{reference}")), "{text}");
        let (_, text) = pairwise_judgment(&r.question, &r.truth, "", "no");
        assert!(text.starts_with("Response 1 gives no answer. Response 2 answers \"no\". "), "{text}");
        assert_eq!(pairwise_copies(&r.truth, "", " No. "), "Response 1 gives no answer. Response 2 answers \"no\".");
    }

    #[test]
    fn pointwise_scores_are_100_f1() {
        let d = item(5, Family::Describe);
        let (score, text) = pointwise_judgment(&d.question, &d.truth, &describe(d.objects()));
        assert_eq!(score, 100);
        assert!(text.ends_with("Score: 100"), "{text}");
        let said = describe(d.objects());
        assert!(text.starts_with(&format!("The response says \"{said}\" The image shows ")), "{text}");
        let (_, text) = pointwise_judgment(&d.question, &d.truth, " There is nothing.\n");
        assert!(text.starts_with("The response says \"There is nothing.\" The image shows "), "{text}");
        assert_eq!(pointwise_copy(&d.truth, " There is nothing.\n"), "The response says \"There is nothing.\"");
        let (score, _) = pointwise_judgment(&d.question, &d.truth, &describe_imperfect(d.scene(), &[0], &[]));
        // 2 of 3 named, nothing invented: precision 1, recall 2/3, F1 0.8
        assert_eq!(score, 80);
        let s = item(6, Family::Presence);
        let (score, text) = pointwise_judgment(&s.question, &s.truth, "maybe");
        assert_eq!(score, 0);
        assert!(text.starts_with("The response answers \"maybe\". "), "{text}");
        assert_eq!(pointwise_copy(&s.truth, "maybe"), "The response answers \"maybe\".");
        assert!(text.contains("The response answers \"maybe\"; the answer is"), "{text}");
    }
}
