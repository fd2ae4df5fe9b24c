"""Can a world checkpoint learn the critic's answer comparison? A text-only test, with transformers.

    compare_probe.py CHECKPOINT [--format judgment|drill|adjacent] [--right SHARE] [--steps 600]
                     [--lr 1e-3] [--batch 16] [--seed 0]

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
"""

import argparse
import collections
import random
import re

import torch
from lookup_probe import completion_offsets, encode, logits_of, token_at, train
from question_probe import COLOURS
from transformers import AutoTokenizer, LlavaOnevisionForConditionalGeneration

NUMBERS = ["zero", "one", "two", "three", "four", "five"]
QUESTIONS = [
    ("What colour is the cross?", COLOURS),
    ("How many circles are there?", NUMBERS),
    ("Is there a red square?", ["yes", "no"]),
    ("Is the circle left of the diamond?", ["yes", "no"]),
]


def example(rnd, right_share, fmt):
    """(prompt, completion, [(decision word, answer right?)]) of one row: two responses, each right with
    probability `right_share`."""
    question, answers = rnd.choice(QUESTIONS)
    truth = rnd.choice(answers)
    given = [truth if rnd.random() < right_share else rnd.choice([a for a in answers if a != truth])
             for _ in range(2)]
    prompt = f"Question: {question} The true answer: {truth}. Response 1: {given[0]}. Response 2: {given[1]}."
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


def accuracy(model, tok, fmt, count=400):
    """{answer right?: [decision predicted right]} on `count` held-out rows at an even prior."""
    right = collections.defaultdict(list)
    for i in range(count):
        prompt, body, decisions = example(random.Random(50_000 + i), 0.5, fmt)
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--format", choices=["judgment", "drill", "adjacent"], default="judgment")
    p.add_argument("--right", type=float, default=0.63, help="probability that a training response is right")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=16)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rnd = random.Random(a.seed)
    tok = AutoTokenizer.from_pretrained(a.checkpoint)
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(a.checkpoint)
    make = lambda: encode(tok, *example(rnd, a.right, a.format)[:2])  # noqa: E731
    report = lambda last: summary(accuracy(model, tok, a.format, 400 if last else 200))  # noqa: E731
    train(model, tok, a, a.steps, make, f"{a.format} at prior {a.right}", report, report_every=200)


if __name__ == "__main__":
    main()
