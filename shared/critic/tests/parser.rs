//! Parser table tests across every output format, and a no-panic property test.

use criticloop_critic as critic;

use critic::parse::compat;
use critic::{OutputFormat, Parsed, Verdict, parse};
use proptest::prelude::*;

use OutputFormat::*;
use Verdict::{First, Second, Tie};

fn score(value: f64) -> Verdict {
    Verdict::Score { value }
}

fn pair(first: f64, second: f64) -> Verdict {
    Verdict::ScorePair { first, second }
}

fn graded(value: i8) -> Verdict {
    Verdict::Graded { value }
}

/// Expected outcome: a verdict, or unparsed (optionally with a reason containing the given text).
enum Want {
    Is(Verdict),
    Unparsed(&'static str),
}

use Want::{Is, Unparsed};

fn check(format: OutputFormat, cases: &[(&str, Want)]) {
    let mut failures = Vec::new();
    for (text, want) in cases {
        let got = parse(format, text);
        let ok = match (want, &got) {
            (Is(v), Parsed::Verdict { verdict }) => v == verdict,
            (Unparsed(needle), Parsed::Unparsed { reason }) => reason.contains(needle),
            _ => false,
        };
        if !ok {
            let want = match want {
                Is(v) => format!("{v:?}"),
                Unparsed(n) => format!("Unparsed(..{n}..)"),
            };
            failures.push(format!("{format:?} {text:?}: want {want}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn parser_critic_pairwise_table() {
    check(
        CriticPairwise,
        &[
            // observed conventions
            ("The better response: [1].", Is(First)),
            ("The better response: [2].", Is(Second)),
            ("[1]", Is(First)),
            ("[2]", Is(Second)),
            ("[2].", Is(Second)),
            ("[first]", Is(First)),
            ("[second]", Is(Second)),
            ("Two responses are equally good.", Is(Tie)),
            ("Two responses are equally", Is(Tie)),
            ("The better response: [first]", Is(First)),
            // markdown and trailing text
            ("**The better response: [1]**", Is(First)),
            ("The better response: **[2]**.", Is(Second)),
            ("*The better response:* __[2]__", Is(Second)),
            ("The better response: [1].\nResponse [2] lacks detail about the dog.", Is(First)),
            (
                "The first response describes a dog. The second response describes a cat. The better response: [2]. It is more accurate.",
                Is(Second),
            ),
            ("Two responses are equally good. [1] and [2] both identify the cat.", Is(Tie)),
            ("The better response: Two responses are equally good.", Is(Tie)),
            ("The better response is Response 1 and Response 2 are equally good", Is(Tie)),
            // full-width and other languages' punctuation
            ("【1】", Is(First)),
            ("［１］", Is(First)),
            ("［２］。", Is(Second)),
            ("The better response：[2]", Is(Second)),
            ("The better response： 【2】", Is(Second)),
            ("更好的回答是【2】。", Is(Second)),
            ("更好的回答：［１］", Is(First)),
            // free text
            ("Response 1 is better", Is(First)),
            ("the second answer is more accurate", Is(Second)),
            ("The second one is better.", Is(Second)),
            ("The first is better.", Is(First)),
            ("The better answer is the first one because it names the breed.", Is(First)),
            ("Better response: 2", Is(Second)),
            ("Verdict: [2]", Is(Second)),
            ("Final verdict: response 1", Is(First)),
            ("I prefer response 2.", Is(Second)),
            ("I would choose the first response.", Is(First)),
            ("I'd pick [2]", Is(Second)),
            ("Response 2 contains fewer hallucinations.", Is(Second)),
            ("Response 1 has more errors than response 2.", Is(Second)),
            ("Response 1 is less accurate than response 2.", Is(Second)),
            ("Response 2's answer is better than response 1's.", Is(Second)),
            ("Compared with response 1, response 2 is more helpful.", Is(Second)),
            ("Answer 1 is superior to answer 2.", Is(First)),
            ("Response #2 outperforms response #1.", Is(Second)),
            ("response1 is better", Is(First)),
            ("The second response is better than the first response.", Is(Second)),
            ("I think [2] is slightly better.", Is(Second)),
            ("The first response is the worst.", Unparsed("no verdict")),
            ("Response 2 is preferred.", Is(Second)),
            ("response 2 better", Is(Second)),
            ("Response one is clearer.", Is(First)),
            ("Overall: [2]", Is(Second)),
            (
                "Response 1 is more detailed, but response 2 is more accurate. Overall, response 2 is better.",
                Is(Second),
            ),
            (
                "Response 1 is better at describing colours. However, response 2 is better at counting. Therefore, response 1 is better.",
                Is(First),
            ),
            // both labels mentioned
            ("Response [1] is worse than [2].", Is(Second)),
            ("Response [1] is better than [2].", Is(First)),
            ("Response [1] is not better than [2].", Unparsed("negated")),
            ("Response 1 isn't better than response 2.", Unparsed("negated")),
            ("I would not choose [1].", Unparsed("negated")),
            ("Both [1] and [2] mention the dog.", Unparsed("both labels")),
            ("Response 1 is more detailed. Response 2 is more accurate.", Unparsed("conflicting comparisons")),
            (
                "The better response: [1]. Upon reflection, the better response: [2].",
                Unparsed("conflicting conclusions"),
            ),
            ("Response 2 is better than response 2.", Unparsed("")),
            // ties in prose
            ("Neither response is better; both miss the sign.", Is(Tie)),
            ("It's a tie.", Is(Tie)),
            ("Both responses are equally accurate.", Is(Tie)),
            ("The responses are equally good", Is(Tie)),
            ("[tie]", Is(Tie)),
            // realistic critiques
            (
                "The first response provides a detailed description of the image, accurately identifying the red double-decker bus and the people on the sidewalk. However, it incorrectly states that there are three buses. The second response is more concise and correctly identifies a single bus, but it omits the people. Overall, the second response is more accurate, while the first one contains a hallucination.\n\nThe better response: [2].",
                Is(Second),
            ),
            (
                "Response 1 is better because it correctly counts the apples. Response 2 says there are five apples, which is wrong.",
                Is(First),
            ),
            (
                "Both responses identify the cat, but Response 2 adds that the cat is sleeping, which is not visible in the image. Therefore, Response 1 is better.",
                Is(First),
            ),
            ("While Response 1 is longer, Response 2 is better.", Is(Second)),
            // the demo world's description judgments: each response copied, the image, each mention
            // walked, and their two scores compared (world::critic_data)
            (
                "Response 1 says \"There is a large red circle.\" Response 2 says \"There is a small blue cross.\" The image shows circle red large. Response 1 mentions large red circle: circle red large; red: circle red large; large: circle red large; which is in the image; it misses nothing: score 100. Response 2 mentions small blue cross: none; which is not; it misses circle red large: score 0. Scores 100 and 0: the first is higher.\nThe better response: [1].",
                Is(First),
            ),
            ("... score 50. Scores 50 and 67: the second is higher.\nThe better response: [2].", Is(Second)),
            ("... score 67. Scores 67 and 67: the same.\nTwo responses are equally good.", Is(Tie)),
            ("Response 2 is much better. It doesn't hallucinate.", Is(Second)),
            (
                "Response 1 is better than Response 2 in detail, but Response 2 is better in accuracy.",
                Unparsed("conflicting comparisons"),
            ),
            ("I believe the first answer is not as good as the second.", Unparsed("no verdict")),
            ("The better response is not [1].", Unparsed("negated")),
            ("The answer is not [2].", Unparsed("negated")),
            ("Response 2 mentions the best-known landmark.", Unparsed("no verdict")),
            ("The better response is neither; both are wrong.", Is(Tie)),
            // nothing to go on
            ("", Unparsed("no verdict")),
            ("I cannot judge.", Unparsed("no verdict")),
            ("1", Unparsed("no verdict")),
            ("The better response: 3", Unparsed("")),
            ("Response A is better", Unparsed("no verdict")),
            ("Response 1 describes a red bus.", Unparsed("no verdict")),
        ],
    );
}

#[test]
fn parser_letters_table() {
    check(
        PairwiseLetters,
        &[
            ("Response B is better.", Is(Second)),
            ("The better response: [A].", Is(First)),
            ("The better response: [B]", Is(Second)),
            ("[[B]]", Is(Second)),
            ("Two responses are equally good.", Is(Tie)),
            ("I prefer Response A because it names the street.", Is(First)),
            ("Response A is less detailed than Response B.", Is(Second)),
            ("The better response is B.", Is(Second)),
            ("Assistant A is better", Is(First)),
            ("Response A is worse than Response B", Is(Second)),
            ("Response A: accurate. Response B: hallucinates. The better response: [A]", Is(First)),
            ("**Response B** is superior.", Is(Second)),
            ("Winner: Response A", Is(First)),
            ("The second response is more accurate.", Is(Second)),
            ("【B】", Is(Second)),
            ("**Response B**", Unparsed("no verdict")),
            ("[1]", Unparsed("no verdict")),
            ("[A] and [B] both hallucinate.", Unparsed("both labels")),
        ],
    );
}

#[test]
fn parser_llava_bench_table() {
    for format in [LlavaWild, LlavaWilder] {
        check(
            format,
            &[
                ("8 9\nAssistant 2 is more detailed.", Is(pair(8.0, 9.0))),
                ("8,9", Is(pair(8.0, 9.0))),
                ("8;9", Is(pair(8.0, 9.0))),
                ("8, 9", Is(pair(8.0, 9.0))),
                ("**8 9**", Is(pair(8.0, 9.0))),
                ("Assistant 1: 8, Assistant 2: 9", Is(pair(8.0, 9.0))),
                ("7.5 8.5", Is(pair(7.5, 8.5))),
                ("\n\n10 6\nexplanation", Is(pair(10.0, 6.0))),
                ("[8, 9]", Is(pair(8.0, 9.0))),
                ("８ ９", Is(pair(8.0, 9.0))),
                ("10 9.", Is(pair(10.0, 9.0))),
                ("Scores: 8/10 and 9/10", Unparsed("expected two scores")),
                ("8\n9", Unparsed("expected two scores")),
                ("11 9", Unparsed("outside 1..=10")),
                ("0 5", Unparsed("outside 1..=10")),
                ("The scores are eight and nine", Unparsed("expected two scores")),
                ("", Unparsed("expected two scores")),
            ],
        );
    }
    assert_eq!(compat::llava_bench_scores("8 9\nexplanation"), [8.0, 9.0]);
    assert_eq!(compat::llava_bench_scores("8;9"), [8.0, 9.0]);
    assert_eq!(compat::llava_bench_scores("Assistant 1: 8, Assistant 2: 9"), [8.0, 9.0]);
    assert_eq!(compat::llava_bench_scores("oops"), [-1.0, -1.0]);
    assert_eq!(compat::llava_bench_scores("\n8 9"), [-1.0, -1.0]);
    assert_eq!(compat::llava_bench_scores("11 9"), [11.0, 9.0]);
}

#[test]
fn parser_mmhal_table() {
    check(
        MmHal,
        &[
            ("The response is accurate and informative.\nRating: 5", Is(score(5.0))),
            ("rating: 0", Is(score(0.0))),
            ("**Rating:** 6", Is(score(6.0))),
            ("Rating：4", Is(score(4.0))),
            ("rating:2", Is(score(2.0))),
            ("Rating: 3\nRating: 3", Is(score(3.0))),
            ("Explanation... Rating: 1.", Is(score(1.0))),
            ("Rating: 3. On reflection, Rating: 4", Unparsed("different ratings")),
            ("Rating: 10", Unparsed("not an integer in 0..=6")),
            ("Rating: 4.5", Unparsed("not an integer in 0..=6")),
            ("Rating: 7", Unparsed("not an integer in 0..=6")),
            ("No rating given.", Unparsed("no `Rating: s`")),
            ("I'd give it a 5.", Unparsed("no `Rating: s`")),
        ],
    );
    assert_eq!(compat::mmhal_rating("Rating: 5"), 5);
    assert_eq!(compat::mmhal_rating("rating: 10"), 1);
    assert_eq!(compat::mmhal_rating("Rating: 2 and rating: 3"), 0);
    assert_eq!(compat::mmhal_rating("none"), 0);
}

#[test]
fn parser_mmvet_table() {
    check(
        MmVet,
        &[
            ("0.8", Is(score(0.8))),
            ("1.0", Is(score(1.0))),
            ("0", Is(score(0.0))),
            ("0.6 because the prediction misses one element", Is(score(0.6))),
            ("**0.4**", Is(score(0.4))),
            ("0.5.", Is(score(0.5))),
            ("  0.9\n", Is(score(0.9))),
            ("０.７", Is(score(0.7))),
            ("Correctness: 0.5", Unparsed("not a number")),
            ("1.2", Unparsed("outside [0, 1]")),
            ("", Unparsed("empty")),
        ],
    );
    assert_eq!(compat::mmvet_score("0.8"), 0.8);
    assert_eq!(compat::mmvet_score("Correctness: 0.5"), 0.0);
    assert_eq!(compat::mmvet_score("1.2"), 0.0);
}

#[test]
fn parser_wildvision_table() {
    check(
        WildVision,
        &[
            ("My final verdict is Assistant B is slightly better: [[B>A]]", Is(graded(1))),
            ("[[A>>B]]", Is(graded(-2))),
            ("[[A>B]]", Is(graded(-1))),
            ("[[A=B]]", Is(graded(0))),
            ("[[B>>A]]", Is(graded(2))),
            ("[[A>B]] and again [[A>B]]", Is(graded(-1))),
            ("[[a>b]]", Is(graded(-1))),
            ("【【B>A】】", Is(graded(1))),
            ("[[B<A]]", Is(graded(-1))),
            ("**[[B>>A]]**", Is(graded(2))),
            ("[[A>B]] then [[B>A]]", Unparsed("different verdicts")),
            ("no verdict here", Unparsed("no [[A>B]]")),
            ("[[A]]", Unparsed("unknown verdict")),
        ],
    );
    assert_eq!(compat::wildvision_score("[[B>A]]"), 1);
    assert_eq!(compat::wildvision_score("[[A>>B]]"), -2);
    assert_eq!(compat::wildvision_score("unclear"), 0);
    assert_eq!(compat::wildvision_score("[[A>B]] [[B>A]]"), 0);
}

#[test]
fn parser_refomb_table() {
    check(
        RefoMb,
        &[
            ("[[A]]", Is(First)),
            ("[[B]]", Is(Second)),
            ("[[C]]", Is(Tie)),
            ("Answer B hallucinates less. [[B]]", Is(Second)),
            ("[[A]] rather than [[B]]", Is(First)),
            ("[[b]]", Is(Second)),
            ("【【C】】", Is(Tie)),
            ("none", Unparsed("no [[A]]")),
            ("[[D]]", Unparsed("no [[A]]")),
        ],
    );
}

#[test]
fn parser_detailed_caption_table() {
    check(
        DetailedCaption,
        &[
            ("The caption is mostly right.\nFinal Score: 85", Is(score(85.0))),
            ("Final Score: 70\nOn reflection...\nFinal Score: 75", Is(score(75.0))),
            ("**Final Score:** 90/100", Is(score(90.0))),
            ("Final Score：６０", Is(score(60.0))),
            ("Final Score: 80. Final Score: (see above)", Is(score(80.0))),
            ("The final score is 72.", Is(score(72.0))),
            ("final score = 55 out of 100", Is(score(55.0))),
            ("Final Score: 8/10", Unparsed("out of 10")),
            ("Final Score: 120", Unparsed("outside 0..=100")),
            ("Score: 85", Unparsed("no \"Final Score")),
            ("Final Score: N/A", Unparsed("no \"Final Score")),
        ],
    );
}

#[test]
fn parser_critic_pointwise_table() {
    check(
        CriticPointwise,
        &[
            ("Score: 75", Is(score(75.0))),
            ("I would rate this response 80 out of 100.", Is(score(80.0))),
            ("The response deserves 65/100.", Is(score(65.0))),
            ("Overall score: 70. Accuracy 30/100, detail 90/100.", Is(score(70.0))),
            ("Final Score: 88", Is(score(88.0))),
            ("**Score**: 92", Is(score(92.0))),
            ("I give it a score of 85 out of 100.", Is(score(85.0))),
            ("Rating: 60", Is(score(60.0))),
            ("Score：８５", Is(score(85.0))),
            ("The image shows 3 dogs; the response says 2 dogs. Score: 40", Is(score(40.0))),
            ("It would score 70 out of 100. Score: 70", Is(score(70.0))),
            ("The response is accurate, so I rated it 90.", Is(score(90.0))),
            ("Accuracy 30/100, detail 90/100", Unparsed("conflicting scores")),
            ("Score: 7/10", Unparsed("out of 10")),
            ("The response is good.", Unparsed("no score")),
            ("Score: 150", Unparsed("outside 0..=100")),
            ("", Unparsed("no score")),
        ],
    );
}

#[test]
fn parser_formats_are_described() {
    for format in OutputFormat::ALL {
        let json = serde_json_roundtrip(format);
        assert_eq!(json, format);
        if let Some((lo, hi)) = format.score_range() {
            assert!(lo < hi);
        }
    }
}

fn serde_json_roundtrip(format: OutputFormat) -> OutputFormat {
    let text = serde_json::to_string(&format).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(OutputFormat::CriticPairwise)
}

/// Fragments that exercise every parser's special paths when glued together at random.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("[[".to_owned()),
        Just("]]".to_owned()),
        Just("【".to_owned()),
        Just("］".to_owned()),
        Just("１".to_owned()),
        Just("：".to_owned()),
        Just("response ".to_owned()),
        Just("the better response: ".to_owned()),
        Just("better than ".to_owned()),
        Just("not ".to_owned()),
        Just("rating: ".to_owned()),
        Just("final score ".to_owned()),
        Just("out of ".to_owned()),
        Just("/".to_owned()),
        Just("A>B".to_owned()),
        Just("equally ".to_owned()),
        Just("the ".to_owned()),
        Just("'s".to_owned()),
        Just("\n".to_owned()),
        Just(".".to_owned()),
        Just("-".to_owned()),
        Just("é".to_owned()),
        "[0-9]{1,3}(\\.[0-9]{0,2})?",
        "[ab12]",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC*", format in 0usize..OutputFormat::ALL.len()) {
        let parsed = parse(OutputFormat::ALL[format], &text);
        if let Parsed::Unparsed { reason } = parsed {
            prop_assert!(!reason.is_empty());
        }
    }

    #[test]
    fn parser_never_panics_on_marker_soup(parts in proptest::collection::vec(fragment(), 0..24)) {
        let text: String = parts.concat();
        for format in OutputFormat::ALL {
            let _ = parse(format, &text);
        }
        let _ = compat::llava_bench_scores(&text);
        let _ = compat::mmhal_rating(&text);
        let _ = compat::mmvet_score(&text);
        let _ = compat::wildvision_score(&text);
    }

    #[test]
    fn parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        for format in OutputFormat::ALL {
            let _ = parse(format, &text);
        }
    }
}
