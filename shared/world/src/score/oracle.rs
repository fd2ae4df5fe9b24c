//! The ground-truth oracle: which of two responses is better. Used for oracle preference pairs and for
//! measuring a critic's agreement with the truth.

use std::cmp::Ordering;

use super::{exact_match, score_description};
use crate::tasks::Truth;

/// Description F1 scores closer than this are a tie.
const F1_TIE: f64 = 1e-9;

/// Whether a short response is right (`None` for descriptions, which have no single right answer).
pub fn is_correct(truth: &Truth, response: &str) -> Option<bool> {
    truth.answer.as_deref().map(|answer| exact_match(response, answer))
}

/// `Greater` when `a` is better than `b`, `Less` when worse, `Equal` for a tie. Short answers: a correct
/// response beats a wrong one; both right or both wrong tie. Descriptions: the higher F1 against the
/// scene's objects wins; F1 within 1e-9 ties.
pub fn better(truth: &Truth, a: &str, b: &str) -> Ordering {
    match truth.answer.as_deref() {
        Some(answer) => exact_match(a, answer).cmp(&exact_match(b, answer)),
        None => {
            let objects = &truth.scene.objects;
            let (fa, fb) = (score_description(a, objects).f1, score_description(b, objects).f1);
            if (fa - fb).abs() <= F1_TIE {
                Ordering::Equal
            } else if fa > fb {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Colour, Object, Scene, Shape, Size};
    use crate::tasks::Family;

    fn truth(family: Family, answer: Option<&str>) -> Truth {
        let objects = vec![
            Object { shape: Shape::Circle, colour: Colour::Red, size: Size::Large, x: 10, y: 10 },
            Object { shape: Shape::Square, colour: Colour::Blue, size: Size::Small, x: 30, y: 30 },
        ];
        Truth { family, answer: answer.map(str::to_string), scene: Scene { width: 48, height: 48, objects }, seed: 0 }
    }

    #[test]
    fn short_answers_compare_by_correctness() {
        let t = truth(Family::Presence, Some("yes"));
        assert_eq!(better(&t, "Yes.", "no"), Ordering::Greater);
        assert_eq!(better(&t, "no", "yes, there is"), Ordering::Less);
        assert_eq!(better(&t, "yes", "Yes!"), Ordering::Equal);
        assert_eq!(better(&t, "no", "maybe"), Ordering::Equal);
        assert_eq!(is_correct(&t, "YES"), Some(true));
    }

    #[test]
    fn descriptions_compare_by_f1_with_ties() {
        let t = truth(Family::Describe, None);
        let full = "There is a large red circle and a small blue square.";
        let half = "There is a large red circle.";
        let other_half = "I can see a small blue square.";
        let wrong = "There is a green triangle.";
        assert_eq!(better(&t, full, half), Ordering::Greater);
        assert_eq!(better(&t, half, full), Ordering::Less);
        assert_eq!(better(&t, half, other_half), Ordering::Equal);
        assert_eq!(better(&t, wrong, ""), Ordering::Equal); // both F1 0
        assert_eq!(better(&t, half, wrong), Ordering::Greater);
        assert_eq!(is_correct(&t, full), None);
    }
}
