//! Word lists for the free-text pairwise parser. Kept in one place so the rules are reviewable.

/// Nouns that name a response: "response 1", "answer b", "the first response".
pub(super) const RESPONSE_NOUNS: &[&str] =
    &["response", "answer", "output", "candidate", "reply", "option", "assistant", "model", "completion"];

/// Nouns that may follow an ordinal: "the second one", "the first answer".
pub(super) const ORDINAL_NOUNS: &[&str] =
    &["response", "answer", "one", "output", "candidate", "reply", "option", "assistant", "completion"];

/// Words that may follow a bare "the first" / "the second" used as a label ("the second is better").
pub(super) const AFTER_BARE_ORDINAL: &[&str] = &[
    "is",
    "was",
    "has",
    "does",
    "provides",
    "offers",
    "gives",
    "clearly",
    "seems",
    "appears",
    "contains",
    "describes",
    "answers",
    "correctly",
    "better",
    "worse",
];

/// "better response", "preferred answer": the noun after a conclusion adjective.
pub(super) const CONCLUSION_ADJS: &[&str] = &["better", "best", "preferred", "winning", "superior", "stronger"];
pub(super) const CONCLUSION_NOUNS: &[&str] = &["response", "answer", "one", "choice", "option", "output", "reply"];
/// `verdict: [1]`, "winner: response a".
pub(super) const VERDICT_NOUNS: &[&str] =
    &["verdict", "choice", "winner", "decision", "preference", "judgment", "judgement"];
/// Words skipped between a conclusion head and its label: `the better response is therefore [1]`.
pub(super) const CONCLUSION_FILLER: &[&str] =
    &["is", "would", "be", "here", "therefore", "clearly", "thus", "final", "overall", "definitely"];

/// Words that, right after a conclusion head, mean "no winner".
pub(super) const TIE_WORDS: &[&str] = &["tie", "neither", "equal", "none", "draw"];

/// Token sequences that state a tie outright (observed: "Two responses are equally good." and the
/// truncated "Two responses are equally").
pub(super) const TIE_PHRASES: &[&[&str]] = &[
    &["two", "responses", "are", "equally"],
    &["two", "answers", "are", "equally"],
    &["the", "responses", "are", "equally", "good"],
    &["equally", "good"],
    &["equally", "well"],
    &["equally", "strong"],
    &["equally", "valid"],
    &["equally", "acceptable"],
    &["equally", "effective"],
    &["equally", "matched"],
    &["equally", "poor"],
    &["equally", "bad"],
    &["of", "equal", "quality"],
    &["it", "is", "a", "tie"],
    &["it", "'s", "a", "tie"],
    &["this", "is", "a", "tie"],
    &["neither", "response", "is", "better"],
    &["neither", "answer", "is", "better"],
    &["neither", "is", "better"],
    &["neither", "one", "is", "better"],
    &["no", "response", "is", "better"],
];

/// Strong comparatives: the subject (the label before) wins or loses outright.
pub(super) const STRONG_POSITIVE: &[&str] =
    &["better", "superior", "preferable", "preferred", "stronger", "outperforms", "outshines", "wins", "excels"];
pub(super) const STRONG_NEGATIVE: &[&str] = &["worse", "inferior", "weaker", "loses"];

/// Selection verbs: the label after them wins ("I prefer response 2", `I would choose [1]`).
pub(super) const SELECTION_VERBS: &[&str] = &[
    "prefer",
    "prefers",
    "choose",
    "chooses",
    "select",
    "selects",
    "pick",
    "picks",
    "recommend",
    "recommends",
    "favor",
    "favors",
    "favour",
    "favours",
];

/// Qualities a response can have "more" of (aspect comparisons: "the second answer is more accurate").
pub(super) const POSITIVE_ADJS: &[&str] = &[
    "accurate",
    "detailed",
    "helpful",
    "relevant",
    "complete",
    "comprehensive",
    "correct",
    "informative",
    "precise",
    "thorough",
    "appropriate",
    "faithful",
    "coherent",
    "concise",
    "clear",
    "specific",
    "useful",
    "insightful",
    "reliable",
    "consistent",
    "engaging",
    "organized",
    "descriptive",
    "nuanced",
    "factual",
    "truthful",
    "grounded",
];
/// One-word positive comparatives.
pub(super) const POSITIVE_COMPARATIVES: &[&str] = &["clearer", "richer", "closer", "sharper", "fuller"];
/// Faults a response can have "more" or "fewer" of.
pub(super) const FAULTS: &[&str] = &[
    "errors",
    "mistakes",
    "hallucinations",
    "inaccuracies",
    "hallucination",
    "inaccurate",
    "misleading",
    "vague",
    "irrelevant",
    "incorrect",
    "flaws",
    "issues",
    "problems",
    "hallucinated",
];

/// Words that negate a comparison between the subject and the comparative.
pub(super) const NEGATIONS: &[&str] = &["not", "no", "never", "neither", "nor", "hardly", "barely", "cannot"];

/// Words that mark a sentence as the conclusion.
pub(super) const CONCLUSION_MARKERS: &[&str] = &[
    "overall",
    "therefore",
    "thus",
    "conclusion",
    "summary",
    "hence",
    "consequently",
    "ultimately",
    "final",
    "finally",
    "verdict",
];
