"""Where a checkpoint's listed short answers go wrong, part by part: listing, lookup, answer.

    listed_parts.py CHECKPOINT HELDOUT FAMILY [--show 6]

HELDOUT is `criticloop world items` output. Every FAMILY (count or presence) question in it is
answered greedily by `criticloop-heldout-eval` (the release binary under $CARGO_TARGET_DIR, five rows per
call, since it keeps five examples) and the answer, "cross purple, diamond red. cross purple. yes.", is
split at ". " and compared with the ground truth's listed answer (image_lookup_probe.py's `listed_answer`,
which writes `world::listed_answer`'s format from the row's objects), split the same way:
- listing: the scene read out, shape first, in reading order;
- lookup: the entries of the asked shape ("cross none" where there are none);
- answer: the last word; and whether it follows the model's own lookup (count: the number of its looked-up
  entries; presence: whether one of them has the asked colour), which separates a wrong lookup from a
  wrong last step.
"""
import argparse
import json
import os
import subprocess
import tempfile

from image_lookup_probe import asked_shape, listed_answer
from question_probe import NUMBERS


def parts(answer):
    """A listed answer's sentences: [listing, lookup, answer] ("cross purple, diamond red", "cross purple",
    "yes")."""
    return [x.strip() for x in answer.strip().rstrip(".").split(". ")]


def truth_parts(row):
    world = row["world"]
    return parts(listed_answer(world["family"], world["answer"], asked_shape(row["question"]), world["objects"]))


def follows(family, question, lookup, word):
    entries = [] if lookup.endswith(" none") else lookup.split(", ")
    if family == "count":
        return word == NUMBERS[min(len(entries), 9)]
    if family == "presence":
        colour = question.split()[3]
        return (word == "yes") == any(e.split()[-1] == colour for e in entries)
    raise ValueError(family)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("heldout")
    p.add_argument("family", choices=["count", "presence"])
    p.add_argument("--show", type=int, default=6)
    a = p.parse_args()
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "criticloop-heldout-eval")
    rows = {}
    for line in open(a.heldout):
        row = json.loads(line)
        if row["world"]["family"] == a.family:
            rows[row["id"]] = row
    ids = list(rows)
    answers = []
    for i in range(0, len(ids), 5):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
            f.writelines(json.dumps(rows[k]) + "\n" for k in ids[i:i + 5])
            f.flush()
            run = subprocess.run([binary, "--checkpoint", a.checkpoint, "--items", f.name, "--examples"],
                                 capture_output=True, text=True, check=True)
        answers += json.loads(run.stdout)["world/short"]["examples"]
    counts = dict.fromkeys(["right", "listing", "lookup", "follows own lookup"], 0)
    for n, e in enumerate(answers):
        listing, lookup, truth = truth_parts(rows[e["id"]])
        said = parts(e["answer"])
        own_lookup = said[1] if len(said) >= 2 else ""
        counts["right"] += e["correct"]
        counts["listing"] += said[0] == listing
        counts["lookup"] += own_lookup == lookup
        counts["follows own lookup"] += len(said) >= 2 and follows(a.family, e["question"], own_lookup, said[-1])
        if n < a.show:
            print(f"  {e['question']} | {e['answer'].strip()} | truth: {listing}. {lookup}. {truth}.")
    print(json.dumps({"family": a.family, "items": len(answers), **counts}))


if __name__ == "__main__":
    main()
