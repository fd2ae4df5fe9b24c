"""Can these models learn the critic's mention check? A text-only test, with transformers.

    mention_probe.py CHECKPOINT [--format walk|lookup|keyed|filter|filter3] [--quality 0.6] [--steps 600] [--lr 1e-3]
                     [--eval-quality 0.3] [--batch 16] [--seed 0] [--show]

A description judgment walks the response's mentions and decides for each whether the image has it: 'The
image shows the large red circle and the small blue square. The response mentions the small red circle,
which is not, and the small blue square, which is in the image; it misses the large red circle: score
50.'. Teacher forced, trained critics write the right list of the image (351 of 360 reference tokens,
session 19) and still decide "in" / "not" for about two mentions in three, by the data's prior. The
decision is a test of whether a three-word key ("small red circle") equals one of the list's entries: a
lookup of a multi-word key in the model's own text, the step that presence (the asked colour against the
looked-up entries) and relations (two-word keys) also fail.

This test takes the image out of it: the prompt gives the response (one of the world's description
phrasings), the completion writes the image's objects and then the judgment of that one response, and the
model (a fresh `init_llava.py` model, or a world checkpoint) is fine-tuned on the whole completion with
plain PyTorch, as the critic stages train. Responses are drawn as `world::sample_response` draws them at
--quality: each true object left out with probability 0.7 (1 - q) and given the wrong size with 0.2 (1 - q),
up to two invented objects each with 0.6 (1 - q), never a true (colour, shape) and half of them a true shape
in another colour; both lists in one seeded reading order. Formats of each mention's walk:
- walk: the critic's own ("the small red circle, which is not");
- lookup: the image's entries of the mention's shape restated after it, shape-first lookup as the listed
  answers do ("the small red circle, the image's circles: the large red circle; which is not"; "the
  image's crosses: none" where it has none), so the decision compares it with a few adjacent entries;
- keyed: the image's list written shape first ("circle red large"), each mention restated the same way
  and followed by the image's entries of its shape in that form ("circle red small: circle red large;
  which is not"), so the words compared sit in the same order a fixed distance apart, and each lookup is
  the key-first kind session 12's recall learned (find the shape, read on); lists are joined by commas
  ("circle red large, square blue small") as in session 21's critic data (`world::critic_data`, which
  since session 22 adds colour and size steps);
- filter / filter3: lookup's shape step, then the mention's colour kept ("..., the image's circles: the
  large red circle; red ones: the large red circle; which is not"), and in filter3 its size too ("small
  ones: none"), so a mention the image lacks ends in "none" at some step.
It reports the loss every 50 steps, and on 200 held-out rows every 200 steps and on 400 at the end
(drawn at --eval-quality), teacher forced: the decision word's accuracy, split by what the mention is (in
the image, the wrong size, a true shape in another colour, or a shape the image lacks; a model that
follows the prior scores near 1 on "in" and near 0 on the rest), and how many lookups have every token
right. A decision after a given "none" is easy; the lookups are what the model would have to write.
"""

import argparse
import collections
import random
import re

import torch
from lookup_probe import completion_offsets, encode, logits_of, token_at, train
from question_probe import COLOURS, SHAPES
from transformers import AutoTokenizer, LlavaOnevisionForConditionalGeneration

PHRASINGS = ["There is {}.", "I can see {}.", "The image shows {}.", "Objects: {}."]
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "diamond": "diamonds",
           "cross": "crosses"}


def join_and(names, last=" and "):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + last + names[-1]


def scene_and_response(rnd, quality):
    """(image objects, mentioned objects, kind of each mention) in one reading order; an object is (size,
    colour, shape, reading key), a kind is "in", "size", "colour" or "shape" (what makes it not the
    image's)."""
    n = rnd.randint(1, 4)
    kinds = rnd.sample([(c, s) for c in COLOURS for s in SHAPES], n)
    image = [(rnd.choice(["small", "large"]), c, s, rnd.random()) for c, s in kinds]
    miss = 1.0 - quality
    mentions = []
    for size, colour, shape, key in image:
        if rnd.random() < 0.7 * miss:
            continue
        if rnd.random() < 0.2 * miss:
            mentions.append(("large" if size == "small" else "small", colour, shape, key, "size"))
        else:
            mentions.append((size, colour, shape, key, "in"))
    taken = set(kinds)
    for _ in range(2):
        if rnd.random() >= 0.6 * miss:
            continue
        free = [(c, s) for c in COLOURS for s in SHAPES if (c, s) not in taken]
        near = [(c, s) for c, s in free if any(s == t for _, t in taken)]
        colour, shape = rnd.choice(near if near and rnd.random() < 0.5 else free)
        taken.add((colour, shape))
        kind = "colour" if any(shape == s for _, _, s, _ in image) else "shape"
        mentions.append((rnd.choice(["small", "large"]), colour, shape, rnd.random(), kind))
    image.sort(key=lambda o: o[3])
    mentions.sort(key=lambda o: o[3])
    return image, mentions


def name(o, fmt):
    size, colour, shape = o[:3]
    return f"{shape} {colour} {size}" if fmt == "keyed" else f"the {size} {colour} {shape}"


def example(rnd, quality, fmt, scene_in_prompt=False):
    """(prompt, completion, [kind of each mention]) of one row; with `scene_in_prompt` the prompt also
    lists the image's objects, so that the completion's list is a copy (as a critic's is read off the
    image) rather than a guess."""
    image, mentions = scene_and_response(rnd, quality)
    said = [f"a {s} {c} {h}" for s, c, h, _, _ in mentions]
    phrasing = rnd.choice(PHRASINGS)
    response = phrasing.format(join_and(said)) if said else "There is nothing in the image."
    prompt = f"Describe everything in the image. The response: {response}"
    walked = []
    for m in mentions:
        decision = "which is in the image" if m[4] == "in" else "which is not"
        if fmt == "walk":
            walked.append(f"{name(m, fmt)}, {decision}")
            continue
        same = [name(o, fmt) for o in image if o[2] == m[2]]
        if fmt == "lookup":
            found = join_and(same) if same else "none"
            walked.append(f"{name(m, fmt)}, the image's {PLURALS[m[2]]}: {found}; {decision}")
        elif fmt in ("filter", "filter3"):
            hue = [name(o, fmt) for o in image if o[2] == m[2] and o[1] == m[1]]
            steps = [f"the image's {PLURALS[m[2]]}: {join_and(same) if same else 'none'}",
                     f"{m[1]} ones: {join_and(hue) if hue else 'none'}"]
            if fmt == "filter3":
                sized = [name(o, fmt) for o in image if o[2] == m[2] and o[1] == m[1] and o[0] == m[0]]
                steps.append(f"{m[0]} ones: {join_and(sized) if sized else 'none'}")
            walked.append(f"{name(m, fmt)}, {'; '.join(steps)}; {decision}")
        else:
            walked.append(f"{name(m, fmt)}: {', '.join(same) if same else 'none'}; {decision}")
    hits = sum(m[4] == "in" for m in mentions)
    missed = [name(o, fmt) for o in image if not any(m[4] == "in" and m[2] == o[2] and m[1] == o[1]
                                                      for m in mentions)]
    f1 = 2 * hits / (len(mentions) + len(image)) if mentions else 0.0
    # the keyed format is session 21's critic data (world::critic_data): lists joined by commas
    names = (lambda xs: ", ".join(xs)) if fmt == "keyed" else join_and
    listed = names([name(o, fmt) for o in image])
    if scene_in_prompt:
        prompt = f"The image: {listed}. {prompt}"
    body = (f"The image shows {listed}. The response mentions {join_and(walked, ', and ') if walked else 'nothing'}; "
            f"it misses {names(missed) if missed else 'nothing'}: score {round(100 * f1)}.")
    return prompt, body, [m[4] for m in mentions]


def decision_positions(tok, prompt, body):
    """(ids, positions of the first token of each decision word: " in" / " not" after "which is")."""
    ids, offsets, head = completion_offsets(tok, prompt, body)
    starts = [head + m.start(1) - 1 for m in re.finditer(r"which is (in|not)\b", body)]
    return ids, [token_at(offsets, c) for c in starts]


def lookups(tok, prompt, body):
    """(ids, [(which lookup, positions of its tokens)]) of a row: what follows "the image's circles: "
    ("shape"), "red ones: " ("colour") or "small ones: " ("size"), or in the keyed format a mention's ": "
    ("shape"), up to the next "; ", leading space included."""
    ids, offsets, head = completion_offsets(tok, prompt, body)
    found = []
    for m in re.finditer(r"(?:(\w+) ones)?: ([^:;]*);(?= which is| \w+ ones:)", body):
        start, end = head + m.start(2) - 1, head + m.end(2)
        positions = [i for i, (a, b) in enumerate(offsets) if start <= a and b <= end]
        which = "shape" if not m.group(1) else "size" if m.group(1) in ("small", "large") else "colour"
        found.append((which, positions))
    return ids, found


def accuracy(model, tok, fmt, quality, scene_in_prompt, count=400):
    """{kind of mention: [decision predicted right]} on `count` held-out rows, and under "shape lookup" /
    "colour lookup" whether each lookup's tokens are all predicted right (teacher forced)."""
    right = collections.defaultdict(list)
    for i in range(count):
        prompt, body, kinds = example(random.Random(50_000 + i), quality, fmt, scene_in_prompt)
        if not kinds:
            continue
        ids, positions = decision_positions(tok, prompt, body)
        assert len(positions) == len(kinds), (body, positions)
        with torch.no_grad():
            predicted = logits_of(model, torch.tensor([ids[:-1]]))[0].argmax(-1)
        for at, kind in zip(positions, kinds):
            right[kind].append(int(predicted[at - 1]) == ids[at])
        for which, positions in lookups(tok, prompt, body)[1]:
            hits = [int(predicted[at - 1]) == ids[at] for at in positions]
            right[f"{which} lookup"].append(all(hits))
            for k, hit in enumerate(hits[:4]):
                right[f"{which} lookup token {k + 1}"].append(hit)
    return right


def summary(right):
    share = lambda v: f"{sum(v)}/{len(v)}"  # noqa: E731
    parts = ", ".join(f"{k} {share(right[k])}" for k in ("in", "size", "colour", "shape"))
    absent = [x for k in ("size", "colour", "shape") for x in right[k]]
    balanced = (sum(right["in"]) / max(1, len(right["in"])) + sum(absent) / max(1, len(absent))) / 2
    lookups = ("shape lookup", "colour lookup", "size lookup")
    looked = "".join(f"; {k}s written right {share(right[k])} (token by token "
                     f"{' '.join(share(right[f'{k} token {i}']) for i in range(1, 5) if right.get(f'{k} token {i}'))})"
                     for k in lookups if right.get(k))
    return f"decisions right: {parts}; balanced {balanced:.3f}{looked}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--format", choices=["walk", "lookup", "keyed", "filter", "filter3"], default="walk")
    p.add_argument("--quality", type=float, default=0.6, help="quality the training responses are drawn at")
    p.add_argument("--eval-quality", type=float, default=0.3,
                   help="quality of the held-out responses (more of their mentions are not the image's)")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--scene-in-prompt", action="store_true",
                   help="list the image's objects in the prompt too, so that the completion copies its list")
    p.add_argument("--show", action="store_true", help="print one training row and exit")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rnd = random.Random(a.seed)
    if a.show:
        print(*example(rnd, a.quality, a.format, a.scene_in_prompt)[:2], sep="\n")
        return
    tok = AutoTokenizer.from_pretrained(a.checkpoint)
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(a.checkpoint)
    model.train()
    make = lambda: encode(tok, *example(rnd, a.quality, a.format, a.scene_in_prompt)[:2])  # noqa: E731
    report = lambda last: summary(  # noqa: E731
        accuracy(model, tok, a.format, a.eval_quality, a.scene_in_prompt, 400 if last else 200))
    train(model, tok, a, a.steps, make, f"{a.format} at quality {a.quality}", report, report_every=200)


if __name__ == "__main__":
    main()
