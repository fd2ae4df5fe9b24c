//! criticloop's own pairwise templates, completing the paper's pool of 30 (the paper prints only two):
//! plain comparisons and criteria-based ones, with and without a reference answer, in the released
//! prompt's layout (`Question: [...]` / `The first response: [...]`), the paper's lettered layout, or a
//! bracketed-section layout. Each ends by asking for the convention its format parses.

use super::{Source, Template};
use crate::parse::{Mode, OutputFormat};

/// Ask for LLaVA-Critic's numbered conclusion.
macro_rules! end_numbered {
    () => {
        " Finish with \"The better response: [1].\" or \"The better response: [2].\", or \"Two responses are equally good.\" if neither is better."
    };
}
/// Ask for the lettered conclusion.
macro_rules! end_letters {
    () => {
        " Finish with \"The better response: [A].\" or \"The better response: [B].\", or \"Two responses are equally good.\" if neither is better."
    };
}
/// Ask for RefoMB's verdict labels.
macro_rules! end_refomb {
    () => {
        " Finish with exactly one verdict: [[A]] if Response A is better, [[B]] if Response B is better, [[C]] if they are equally good."
    };
}
/// Ask for WildVision's graded labels.
macro_rules! end_graded {
    () => {
        " Finish with exactly one verdict label: [[A>>B]] (A much better), [[A>B]] (A slightly better), [[A=B]] (tie), [[B>A]] (B slightly better) or [[B>>A]] (B much better)."
    };
}
macro_rules! numbered {
    () => {
        "\nQuestion: [{question}]\nThe first response: [{response1}]\nThe second response: [{response2}]\nASSISTANT:\n"
    };
}
macro_rules! numbered_ref {
    () => {
        "\nQuestion: [{question}]\nReference answer: [{reference}]\nThe first response: [{response1}]\nThe second response: [{response2}]\nASSISTANT:\n"
    };
}
macro_rules! letters {
    () => {
        "\nQuestion: [{question}]\nResponse A: [{response1}]\nResponse B: [{response2}]\nASSISTANT:\n"
    };
}
macro_rules! letters_ref {
    () => {
        "\nQuestion: [{question}]\nReference answer: [{reference}]\nResponse A: [{response1}]\nResponse B: [{response2}]\nASSISTANT:\n"
    };
}
macro_rules! sections {
    () => {
        "[Question]\n{question}\n\n[Response 1]\n{response1}\n[End of Response 1]\n\n[Response 2]\n{response2}\n[End of Response 2]\n\n"
    };
}
macro_rules! sections_ref {
    () => {
        "[Question]\n{question}\n\n[Reference Answer]\n{reference}\n\n[Response 1]\n{response1}\n[End of Response 1]\n\n[Response 2]\n{response2}\n[End of Response 2]\n\n"
    };
}

const fn own(id: &'static str, format: OutputFormat, text: &'static str) -> Template {
    Template { id, source: Source::Criticloop, mode: Mode::Pairwise, format, text }
}

use OutputFormat::{CriticPairwise as N, PairwiseLetters as L, RefoMb as R, WildVision as G};

pub(super) static POOL: [Template; 30] = [
    // --- plain comparisons, no reference ---
    own(
        "pool/plain-which-better",
        N,
        concat!(
            "Look at the image and the question, then read the two responses below. Decide which response answers the question better and explain why, citing what you see in the image.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/plain-expert-letters",
        L,
        concat!(
            "You are an expert evaluator of image-based question answering. Compare Response A and Response B to the question about the image and decide which one is better, giving specific reasons.",
            end_letters!(),
            letters!()
        ),
    ),
    own(
        "pool/plain-user-view",
        N,
        concat!(
            "Imagine you are the person who asked this question about the image. Which of the two responses would you rather receive? Explain your choice with details from the image.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/plain-brief",
        N,
        concat!(
            "Compare the two responses to the image-based question and say which one is better, with a short justification.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/plain-sections",
        N,
        concat!(
            sections!(),
            "Please act as a fair judge: decide which of the two responses above answers the question about the image better. Explain your reasoning with specific details.",
            end_numbered!(),
            "\nASSISTANT:\n"
        ),
    ),
    own(
        "pool/plain-verdict-labels",
        R,
        concat!(
            "Compare the two responses to the question about the image and decide which is better overall. Explain your decision first.",
            end_refomb!(),
            letters!()
        ),
    ),
    own(
        "pool/plain-graded",
        G,
        concat!(
            "Compare the two responses to the question about the image and decide which is better and by how much. Explain your decision first.",
            end_graded!(),
            letters!()
        ),
    ),
    own(
        "pool/plain-teacher",
        N,
        concat!(
            "As a teacher grading two students' answers to a question about an image, decide which answer deserves the higher mark and explain the difference.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/plain-no-bias",
        N,
        concat!(
            "Without letting the order or the length of the responses influence you, decide which response better answers the question about the image, and explain why.",
            end_numbered!(),
            numbered!()
        ),
    ),
    // --- criteria, no reference ---
    own(
        "pool/criteria-hallucination",
        N,
        concat!(
            "Judge the two responses to the question about the image mainly on hallucination: objects, attributes, counts, text or relations that are stated but not in the image. The response with fewer and less serious hallucinations is better; if both are equally faithful, prefer the more informative one. Explain your decision with specific details.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-helpfulness",
        N,
        concat!(
            "Judge the two responses to the question about the image on helpfulness: do they answer what was asked, stay relevant, and give the user useful information drawn from the image? Explain your decision with specific details.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-detail",
        N,
        concat!(
            "Judge the two responses on the level of correct detail they give about the image: specific objects, attributes, positions and context, as long as the details are accurate. Vague or generic statements count for little, wrong details count against. Explain your decision.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-reasoning",
        N,
        concat!(
            "The question needs reasoning about the image (for example counting, comparison, arithmetic or reading a chart). Judge the two responses first on whether the final answer is correct, then on whether the reasoning steps are valid and grounded in the image. Explain your decision.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-ocr",
        N,
        concat!(
            "The question concerns text in the image. Judge the two responses on how accurately they read and use that text (exact words, numbers, names), then on how well they answer the question. Explain your decision with specific details.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-safety",
        N,
        concat!(
            "Judge the two responses to the question about the image on safety and ethics as well as quality: appropriate caution on sensitive topics such as medical images, no identification of real people from the image, no harmful, biased or offensive content. A safe and helpful response beats an unsafe one. Explain your decision.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-instructions",
        N,
        concat!(
            "Judge how well each response follows the instructions in the question (requested format, length, language, what to include or leave out) while answering correctly about the image. Explain your decision with specific details.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-weighted",
        N,
        concat!(
            "Evaluate the two responses to the question about the image with these weights: accuracy with respect to the image 40%, helpfulness 30%, level of detail 20%, clarity 10%. Assess each criterion for both responses, then decide which response is better overall.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-spatial",
        N,
        concat!(
            "Judge the two responses on how correctly they describe where things are in the image and how many there are: positions, spatial relations, counts and sizes. Explain your decision with specific details.",
            end_numbered!(),
            numbered!()
        ),
    ),
    own(
        "pool/criteria-concise-letters",
        L,
        concat!(
            "Judge Response A and Response B on correctness with respect to the image first and conciseness second: a correct, focused answer beats a long one padded with generic or irrelevant text. Explain your decision.",
            end_letters!(),
            letters!()
        ),
    ),
    own(
        "pool/criteria-five-letters",
        L,
        concat!(
            "You will be given an image, a question and two responses. Select the better response, considering: 1. accuracy in describing the objects in the image; 2. accuracy in depicting relations between objects; 3. accuracy in describing attributes; 4. helpfulness to the user; 5. ethical considerations such as privacy and harmful content. Give reasons for your choice.",
            end_letters!(),
            letters!()
        ),
    ),
    own(
        "pool/criteria-chart",
        N,
        concat!(
            "The image is a chart, table, diagram or document. Judge the two responses on whether they extract the right values and labels from it and draw correct conclusions, then on clarity. Explain your decision with specific details.",
            end_numbered!(),
            numbered!()
        ),
    ),
    // --- with a reference answer ---
    own(
        "pool/ref-plain",
        N,
        concat!(
            "A reference answer to the question about the image is given. Decide which response is closer to the reference in meaning and correctness, and explain why.",
            end_numbered!(),
            numbered_ref!()
        ),
    ),
    own(
        "pool/ref-five-criteria",
        L,
        concat!(
            "You will be given an image, a question, a ground truth answer and two responses. Select the better response, considering: 1. accuracy in describing the objects mentioned in the ground truth answer, with few objects not present in it; 2. accuracy in depicting the relations between objects compared to the ground truth answer; 3. accuracy in describing attributes compared to the ground truth answer; 4. helpfulness; 5. ethical considerations. Give reasons for your choice.",
            end_letters!(),
            letters_ref!()
        ),
    ),
    own(
        "pool/ref-hallucination",
        N,
        concat!(
            "Using the reference answer and the image, find the claims in each response that are wrong or unsupported. The response with fewer and less serious errors is better; if they are equal on errors, prefer the more complete one. Explain your decision.",
            end_numbered!(),
            numbered_ref!()
        ),
    ),
    own(
        "pool/ref-coverage",
        N,
        concat!(
            "List the key points of the reference answer, then check which of them each response covers correctly and whether it adds anything wrong. The response that covers more key points with fewer errors is better. Explain your decision.",
            end_numbered!(),
            numbered_ref!()
        ),
    ),
    own(
        "pool/ref-image-first",
        N,
        concat!(
            "A reference answer is given, but it may be imperfect: where it disagrees with the image, trust the image. Decide which response answers the question about the image better and explain why.",
            end_numbered!(),
            numbered_ref!()
        ),
    ),
    own(
        "pool/ref-final-answer",
        N,
        concat!(
            "The question has a definite answer, given as the reference. Judge the two responses first on whether their final answer matches the reference, then on whether their reasoning is valid and grounded in the image. Explain your decision.",
            end_numbered!(),
            numbered_ref!()
        ),
    ),
    own(
        "pool/ref-verdict-labels",
        R,
        concat!(
            "Compare Response A and Response B against the reference answer and the image, on correctness, hallucination and helpfulness. Explain your decision first.",
            end_refomb!(),
            letters_ref!()
        ),
    ),
    own(
        "pool/ref-sections",
        N,
        concat!(
            sections_ref!(),
            "Please act as a fair judge: using the reference answer and the image, decide which of the two responses answers the question better. Explain your reasoning with specific details.",
            end_numbered!(),
            "\nASSISTANT:\n"
        ),
    ),
    own(
        "pool/ref-caption",
        N,
        concat!(
            "The question asks for a detailed description of the image, and a reference description is given. Judge the two descriptions on accuracy (no hallucinated objects or attributes) and on how many correct details of the reference and the image they capture. Explain your decision.",
            end_numbered!(),
            numbered_ref!()
        ),
    ),
];
