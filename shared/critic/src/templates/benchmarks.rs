//! The 7 benchmarks' pointwise judge prompts, in criticloop's wording. Like LLaVA-Critic's training
//! prompts (paper, appendix: "we slightly adjust their evaluation prompts to focus on visual
//! information from the input image"), each asks the judge to look at the image, and each asks for
//! exactly the benchmark's output format so the benchmark's parse rule applies (METHOD.md section 2).
//! LLaVA-W/Wilder, WildVision and RefoMB show the benchmark's reference answer first and the judged
//! response second.

use super::{Source, Template};
use crate::parse::{Mode, OutputFormat};

pub(super) static BENCHMARKS: [Template; 7] = [
    Template {
        id: "bench/llava-wild",
        source: Source::Benchmark,
        mode: Mode::Pointwise,
        format: OutputFormat::LlavaWild,
        text: "[Question]\n{question}\n\n\
[Assistant 1]\n{reference}\n\n[End of Assistant 1]\n\n\
[Assistant 2]\n{response}\n\n[End of Assistant 2]\n\n\
[System]\n\
We would like your feedback on how two AI assistants answered the user question above, which the user asked while looking at the image shown to you. Rate the helpfulness, relevance, accuracy and level of detail of each answer with one overall score from 1 to 10, where a higher score means better overall performance.\n\
First output a single line containing only the two scores, for Assistant 1 and Assistant 2 in that order, separated by a space. On the following lines, explain your evaluation thoroughly, avoid any bias, and make sure the order in which the answers were presented does not affect your judgment.\n",
    },
    Template {
        id: "bench/llava-wilder",
        source: Source::Benchmark,
        mode: Mode::Pointwise,
        format: OutputFormat::LlavaWilder,
        text: "[Question]\n{question}\n\n\
[Assistant 1]\n{reference}\n\n[End of Assistant 1]\n\n\
[Assistant 2]\n{response}\n\n[End of Assistant 2]\n\n\
[System]\n\
We would like your feedback on how two AI assistants answered the user question above, which the user asked while looking at the image shown to you. Assume assistant 1 always receives a score of 10 and is the correct answer. Rate the helpfulness, relevance, accuracy and level of detail of assistant 2 against it, as one overall score from 1 to 10, where a higher score means better overall performance.\n\
First output a single line containing only the two scores, for Assistant 1 and Assistant 2 in that order, separated by a space. On the following lines, explain your evaluation thoroughly and avoid any bias.\n",
    },
    Template {
        id: "bench/mmhal",
        source: Source::Benchmark,
        mode: Mode::Pointwise,
        format: OutputFormat::MmHal,
        text: "Please act as an impartial judge of the response a Large Multimodal Model (LMM) gave to a question about the image shown to you. Judge mainly whether the response is informative and whether it contains hallucination, that is, claims about the image that the image does not support. A standard human-written answer is given for reference; where it and the image leave something open, do not count a plausible claim as hallucination. Questions may ask about attributes, adversarial objects, comparisons, counting, spatial relations, the environment, a holistic description or other details.\n\n\
[Question]\n{question}\n\n\
[Standard Human-Generated Answer]\n{reference}\n\n\
[LMM Response to Evaluate]\n{response}\n\n\
First explain your judgment, then on the last line give a rating from 0 to 6 in the form \"Rating: s\":\n\
6: very informative, with good analysis or reasoning, no hallucination\n\
5: very informative, no hallucination\n\
4: somewhat informative, no hallucination\n\
3: not informative, no hallucination\n\
2: very informative, with hallucination\n\
1: somewhat informative, with hallucination\n\
0: not informative, with hallucination\n",
    },
    Template {
        id: "bench/mmvet",
        source: Source::Benchmark,
        mode: Mode::Pointwise,
        format: OutputFormat::MmVet,
        text: "Compare the ground truth with the prediction of an AI model for the question about the image shown to you, and give the prediction a correctness score. In the ground truth, <AND> means the prediction is totally right only if it contains every element, and <OR> means it is totally right if it contains any one of them. The score is one of 0.0 (totally wrong), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 or 1.0 (totally right). Start your reply with the score alone; you may explain it after.\n\n\
Question: {question}\n\
Ground truth: {reference}\n\
Prediction: {response}\n\
Correctness: ",
    },
    Template {
        id: "bench/wildvision",
        source: Source::Benchmark,
        mode: Mode::Pointwise,
        format: OutputFormat::WildVision,
        text: "Please act as an impartial judge and compare how two AI assistants answered the user question about the image shown to you. Assistant A's answer is a fixed baseline; assistant B's answer is the one being evaluated. Before reading them, work out your own answer from the image. Then check both answers for mistakes or inaccurate information about the image, and judge whether each is helpful, relevant and concise; consider creativity and missing important information where they matter. Do not let the order or the length of the answers sway you.\n\n\
[User Question]\n{question}\n\n\
[The Start of Assistant A's Answer]\n{reference}\n[The End of Assistant A's Answer]\n\n\
[The Start of Assistant B's Answer]\n{response}\n[The End of Assistant B's Answer]\n\n\
After your explanation, output exactly one final verdict label:\n\
1. Assistant A is significantly better: [[A>>B]]\n\
2. Assistant A is slightly better: [[A>B]]\n\
3. Tie, relatively the same: [[A=B]]\n\
4. Assistant B is slightly better: [[B>A]]\n\
5. Assistant B is significantly better: [[B>>A]]\n",
    },
    Template {
        id: "bench/refomb",
        source: Source::Benchmark,
        mode: Mode::Pointwise,
        format: OutputFormat::RefoMb,
        text: "You are a fair judge of two answers to a question about the image shown to you. Answer A is a reference answer from a strong model; answer B is the one being evaluated. Compare them on correctness with respect to the image, absence of hallucinated content, helpfulness and level of detail. Explain your comparison briefly, then give your verdict as exactly one of: [[A]] if answer A is better, [[B]] if answer B is better, [[C]] if they are equally good.\n\n\
[Question]\n{question}\n\n\
[Answer A]\n{reference}\n\n\
[Answer B]\n{response}\n",
    },
    Template {
        id: "bench/detailed-caption",
        source: Source::Benchmark,
        mode: Mode::Pointwise,
        format: OutputFormat::DetailedCaption,
        text: "You are evaluating a detailed description of the image shown to you, written by a Large Multimodal Model in answer to the instruction below. Judge how accurately and completely it describes the image: the objects present, their attributes, counts and positions, the relations between them, any text in the image, and the overall scene. Penalise hallucinated objects or details heavily, and reward correct fine-grained detail. Explain your assessment, then end with a line \"Final Score: N\", where N is an integer from 0 to 100.\n\n\
Instruction: {question}\n\
Description: {response}\n",
    },
];
