"""Does a world checkpoint answer from the image and the question, or from priors? Read with transformers.

    question_probe.py CHECKPOINT ITEMS [--question-first]

ITEMS is `criticloop world items` output (the scenes' ground truth rides along). For every short question
the checkpoint's next-token distribution after the prompt is folded into a distribution over the family's
answer words (a word's probability is that of its first token, lower-case or capitalised; a first token
shared by several words is split evenly among them), and the script prints, per family:
- accuracy: how often the most likely answer word is the right one;
- image: the mean total-variation distance between the answer distributions with the image and with a
  blank image (0: the answer ignores the image);
- question: the same distance between the question and the question with its object words changed (the
  first colour word to another colour, the first shape word to another shape; 0: the answer ignores which
  object is asked about);
and, for presence questions, the mean p(yes) when the asked object is in the image, when only its shape or
only its colour is, and when neither is.

--question-first puts the image after the question (a plain prompt in the chat template's format) for
checkpoints trained that way; by default the chat template puts it first, as criticloop's trainer does.
"""

import base64
import collections
import io
import json
import re
import sys

import torch
from PIL import Image
from transformers import AutoProcessor, LlavaOnevisionForConditionalGeneration

COLOURS = ["red", "green", "blue", "yellow", "purple", "white"]
SHAPES = ["circle", "square", "triangle", "diamond", "cross"]
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ANSWERS = {"colour": COLOURS, "count": NUMBERS, "presence": ["yes", "no"], "relation": ["yes", "no"]}
BACKGROUND = (20, 20, 30)


def image_of(item):
    return Image.open(io.BytesIO(base64.b64decode(item["image"].split(",", 1)[1]))).convert("RGB")


def swapped(question):
    """The question about another object: its first colour and first shape word (or plural) changed."""
    for words in (COLOURS, SHAPES):
        pattern = r"\b(" + "|".join(words) + r")(e?s)?\b"
        m = re.search(pattern, question)
        if m:
            other = words[(words.index(m.group(1)) + 1) % len(words)]
            plural = m.group(2) or ""
            if plural == "es" and other != "cross":
                plural = "s"
            elif plural == "s" and other == "cross":
                plural = "es"
            question = question[: m.start()] + other + plural + question[m.end() :]
    return question


def presence_kind(item, question):
    colour, shape = re.match(r"Is there a (\w+) (\w+)\?", question).groups()
    objects = item["world"]["objects"]
    if any(o["colour"] == colour and o["shape"] == shape for o in objects):
        return "present"
    if any(o["shape"] == shape for o in objects):
        return "shape only"
    if any(o["colour"] == colour for o in objects):
        return "colour only"
    return "neither"


class Probe:
    def __init__(self, checkpoint, question_first):
        torch.set_num_threads(2)
        self.proc = AutoProcessor.from_pretrained(checkpoint)
        self.model = LlavaOnevisionForConditionalGeneration.from_pretrained(checkpoint).eval()
        self.question_first = question_first
        tok = self.proc.tokenizer
        self.first = {}
        for family, words in ANSWERS.items():
            owners = collections.defaultdict(set)
            for w in words:
                for form in (w, w.capitalize()):
                    owners[tok.encode(form, add_special_tokens=False)[0]].add(w)
            self.first[family] = owners

    def prompt(self, question):
        if self.question_first:
            return ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" + question
                    + "\n<image><|im_end|>\n<|im_start|>assistant\n")
        user = [{"type": "image"}, {"type": "text", "text": question}]
        return self.proc.apply_chat_template([{"role": "user", "content": user}], add_generation_prompt=True)

    def answers(self, family, image, question):
        x = self.proc(images=image, text=self.prompt(question), return_tensors="pt")
        with torch.no_grad():
            p = self.model(**x).logits[0, -1].softmax(-1)
        dist = collections.Counter({w: 0.0 for w in ANSWERS[family]})
        for token, words in self.first[family].items():
            for w in words:
                dist[w] += p[token].item() / len(words)
        total = sum(dist.values()) or 1.0
        return {w: v / total for w, v in dist.items()}


def tv(a, b):
    return 0.5 * sum(abs(a[w] - b[w]) for w in a)


def main():
    checkpoint, items = sys.argv[1], sys.argv[2]
    probe = Probe(checkpoint, "--question-first" in sys.argv)
    blank = None
    stats = collections.defaultdict(lambda: collections.defaultdict(list))
    for line in open(items):
        item = json.loads(line)
        family, question = item["world"]["family"], item["question"]
        if family not in ANSWERS:
            continue
        image = image_of(item)
        blank = blank or Image.new("RGB", image.size, BACKGROUND)
        seen = probe.answers(family, image, question)
        s = stats[family]
        s["accuracy"].append(float(max(seen, key=seen.get) == item["world"]["answer"]))
        s["image"].append(tv(seen, probe.answers(family, blank, question)))
        other = swapped(question)
        if other != question:
            s["question"].append(tv(seen, probe.answers(family, image, other)))
        if family == "presence":
            stats["presence p(yes)"][presence_kind(item, question)].append(seen["yes"])
    report = {}
    for family, s in stats.items():
        report[family] = {k: {"mean": round(sum(v) / len(v), 3), "n": len(v)} for k, v in s.items()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
