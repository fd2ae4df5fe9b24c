"""Can a world checkpoint learn the critic's answer comparison? A text-only test, with transformers.

    compare_probe.py CHECKPOINT [--format judgment|drill|adjacent] [--right SHARE] [--steps 600]
                     [--lr 1e-3] [--batch 16] [--seed 0] [--colour-only] [--wrap] [--phrasings]
                     [--repeat-steps N]
    compare_probe.py [CHECKPOINT] --write FILE [--rows N] [--write-repeat] [the row options above]

The critic's short judgments end each response's sentence in a decision that is a pure equality test of
two words it has already written: 'Response 2 answers "no"; the answer is "yes", so it is wrong.'. Trained
critics write "correct" after differing answers about as often as the data's prior says (session 15: 8 of
69 "wrong" at a 63% prior of right answers, and 69 of 69 "wrong" after a stage at quality 0.3). This test
takes the image out of it: the prompt gives the question, the two responses and the true answer in words,
and the model (usually a fresh `init_llava.py` model, or a world checkpoint) is fine-tuned with plain
PyTorch (AdamW, warm-up then cosine, gradient norm clipped at 1) on the whole completion, as the critic
stages train, with each response right with probability --right. Formats of the completion:
- judgment: the critic's short judgment as `world::pairwise_judgment` writes it (copies, the answer, one
  sentence per response with the decision, the verdict), without the scene listing;
- drill: the two decision sentences alone;
- adjacent: the decision written right after the two words it compares ('"no" against "yes": wrong').
It reports the loss every 50 steps, the decision word's accuracy (teacher forced) on 200 held-out rows
at an even prior every 200 steps, and at the end on 400, split by whether the response's answer is
right: a model that follows the prior scores near 1 on one side and near 0 on the other.
The rows move toward the small world's colour critic rows with --colour-only (colour questions alone),
--wrap (LLaVA-Critic's pairwise prompt around the question and responses, the true answer before it) and
--phrasings (a response says "red", "Red." or "Red, I think.", the judgment copies "red").
--repeat-steps first trains that many steps on lookup_probe's repeat task (random tokens written twice).
--write writes such rows (or, with --write-repeat, repeat rows decoded with CHECKPOINT's tokenizer) in
criticloop's training format instead, for `criticloop-train dpo --loss sft` stages.
"""

import argparse
import collections
import json
import random
import re

import torch
from lookup_probe import completion_offsets, encode, logits_of, repeat_example, token_at, train
from question_probe import COLOURS
from transformers import AutoTokenizer, LlavaOnevisionForConditionalGeneration

NUMBERS = ["zero", "one", "two", "three", "four", "five"]
QUESTIONS = [
    ("What colour is the cross?", COLOURS),
    ("How many circles are there?", NUMBERS),
    ("Is there a red square?", ["yes", "no"]),
    ("Is the circle left of the diamond?", ["yes", "no"]),
]


# the pairwise prompt of shared/critic/src/templates/released.rs, which `world critic-data` rows use
CRITIC_PROMPT = ("Given an image and a corresponding question, please serve as an unbiased and fair judge to evaluate "
                 "the quality of the answers provided by a Large Multimodal Model (LMM). Determine which answer is "
                 "better and explain your reasoning with specific details. Your task is provided as follows:\n"
                 "Question: [{question}]\nThe first response: [{first}]\nThe second response: [{second}]\nASSISTANT:\n")


def phrased(rnd, word, phrasings):
    """`word` as a sampled response says it: itself, or (with --phrasings) "Red." or "Red, I think." too."""
    if not phrasings:
        return word
    return rnd.choice([word, f"{word.capitalize()}.", f"{word.capitalize()}, I think."])


def example(rnd, right_share, fmt, questions=QUESTIONS, wrap=False, phrasings=False):
    """(prompt, completion, [(decision word, answer right?)]) of one row: two responses, each right with
    probability `right_share`. `wrap` puts the question and responses in LLaVA-Critic's pairwise prompt
    (after the true answer); `phrasings` lets a response say "Red." or "Red, I think." for "red"."""
    question, answers = rnd.choice(questions)
    truth = rnd.choice(answers)
    given = [truth if rnd.random() < right_share else rnd.choice([a for a in answers if a != truth])
             for _ in range(2)]
    said = [phrased(rnd, g, phrasings) for g in given]
    if wrap:
        prompt = f"The true answer: {truth}.\n" + CRITIC_PROMPT.format(question=question, first=said[0],
                                                                          second=said[1])
    else:
        prompt = f"Question: {question} The true answer: {truth}. Response 1: {said[0]}. Response 2: {said[1]}."
    decisions = [("correct" if g == truth else "wrong", g == truth) for g in given]
    if fmt == "adjacent":
        sentences = [f'Response {i + 1}: "{g}" against "{truth}": {d}.' for i, (g, (d, _)) in
                     enumerate(zip(given, decisions))]
    else:
        sentences = [f'Response {i + 1} answers "{g}"; the answer is "{truth}", so it is {d}.' for i, (g, (d, _))
                     in enumerate(zip(given, decisions))]
    body = " ".join(sentences)
    if fmt == "judgment":
        copies = " ".join(f'Response {i + 1} answers "{g}".' for i, g in enumerate(given))
        right = [r for _, r in decisions]
        verdict = ("Two responses are equally good." if right[0] == right[1]
                   else f"The better response: [{1 if right[0] else 2}].")
        body = f"{copies} The answer is {truth}. {body}\n{verdict}"
    return prompt, body, decisions


def decision_positions(tok, prompt, body):
    """(ids, positions of the first token of each decision word): the tokens that start " correct" /
    " wrong" in the completion."""
    ids, offsets, head = completion_offsets(tok, prompt, body)
    starts = [head + m.start() for m in re.finditer(r"(?<=[ :]) ?(correct|wrong)\b", body)]
    return ids, [token_at(offsets, c) for c in starts]


def accuracy(model, tok, fmt, count=400, **kind):
    """{answer right?: [decision predicted right]} on `count` held-out rows at an even prior (`kind`:
    example's keyword arguments)."""
    right = collections.defaultdict(list)
    for i in range(count):
        prompt, body, decisions = example(random.Random(50_000 + i), 0.5, fmt, **kind)
        ids, positions = decision_positions(tok, prompt, body)
        with torch.no_grad():
            predicted = logits_of(model, torch.tensor([ids[:-1]]))[0].argmax(-1)
        assert len(positions) == 2, (body, positions)
        for at, (_, is_right) in zip(positions, decisions):
            right[is_right].append(int(predicted[at - 1]) == ids[at])
    return right


def summary(right):
    share = lambda v: f"{sum(v)}/{len(v)}"  # noqa: E731
    return f"'correct' where right {share(right[True])}, 'wrong' where wrong {share(right[False])}"


def write_training_rows(path, rows, what):
    """(id, prompt, completion) rows to `path` in criticloop's training format (`criticloop-train dpo --loss
    sft` trains on `chosen`; `rejected` repeats it), text only."""
    count = 0
    with open(path, "w") as f:
        for count, (row_id, prompt, completion) in enumerate(rows, 1):
            answer = [{"role": "assistant", "content": completion}]
            row = {"id": row_id, "prompt": [{"role": "user", "content": prompt}], "chosen": answer,
                   "rejected": answer}
            f.write(json.dumps(row) + "\n")
    print(f"{count} {what} written to {path}")


def judgment_rows(count, rnd, right_share, fmt, kind):
    """`count` of this probe's rows (`example`), for mixing into a critic stage's rows."""
    for i in range(count):
        prompt, body, _ = example(rnd, right_share, fmt, **kind)
        yield f"compare-{i}", prompt, body


def repeat_rows(count, rnd, tok):
    """`count` rows of lookup_probe's repeat task: the prompt is a random lead and a random token sequence,
    decoded to text with `tok`; the completion is the sequence again."""
    special = set(tok.all_special_ids)
    vocab = [i for i in range(len(tok)) if i not in special]
    for i in range(count):
        lead = tok.decode([rnd.choice(vocab) for _ in range(rnd.randint(0, 40))])
        seq = tok.decode([rnd.choice(vocab) for _ in range(rnd.randint(8, 40))])
        yield f"repeat-{i}", lead + seq, seq


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", nargs="?")
    p.add_argument("--write", metavar="FILE", help="write --rows rows as criticloop training rows (JSONL) and stop")
    p.add_argument("--rows", type=int, default=6400)
    p.add_argument("--write-repeat", action="store_true",
                   help="--write writes repeat rows instead (CHECKPOINT's tokenizer decodes the random tokens)")
    p.add_argument("--format", choices=["judgment", "drill", "adjacent"], default="judgment")
    p.add_argument("--right", type=float, default=0.63, help="probability that a training response is right")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--colour-only", action="store_true", help="colour questions alone")
    p.add_argument("--wrap", action="store_true", help="LLaVA-Critic's pairwise prompt around the rows")
    p.add_argument("--phrasings", action="store_true", help='responses also say "Red." and "Red, I think."')
    p.add_argument("--repeat-steps", type=int, default=0,
                   help="first train this many steps on random tokens written twice (lookup_probe's repeat)")
    a = p.parse_args()
    kind = dict(questions=QUESTIONS[:1] if a.colour_only else QUESTIONS, wrap=a.wrap, phrasings=a.phrasings)

    if a.write_repeat and not (a.write and a.checkpoint):
        p.error("--write-repeat needs --write FILE and CHECKPOINT (whose tokenizer decodes the tokens)")
    if a.write and a.write_repeat:
        tok = AutoTokenizer.from_pretrained(a.checkpoint)
        return write_training_rows(a.write, repeat_rows(a.rows, random.Random(a.seed), tok), "repeat rows")
    if a.write:
        rows = judgment_rows(a.rows, random.Random(a.seed), a.right, a.format, kind)
        return write_training_rows(a.write, rows, "rows")
    if not a.checkpoint:
        p.error("CHECKPOINT is needed unless --write")
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rnd = random.Random(a.seed)
    tok = AutoTokenizer.from_pretrained(a.checkpoint)
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(a.checkpoint)
    if a.repeat_steps:
        train(model, tok, a, a.repeat_steps, lambda: repeat_example(rnd, len(tok)), "repeat")
    make = lambda: encode(tok, *example(rnd, a.right, a.format, **kind)[:2])  # noqa: E731
    report = lambda last: summary(accuracy(model, tok, a.format, 400 if last else 200, **kind))  # noqa: E731
    train(model, tok, a, a.steps, make, f"{a.format} at prior {a.right}", report, report_every=200)


if __name__ == "__main__":
    main()
