"""Where a critic's own description judgments go wrong, step by step, against the ground truth's.

    walk_check.py CRITIC_EVAL_JSON

CRITIC_EVAL_JSON is `criticloop-critic-eval --examples N` output on description items (N at least the number
of judgments, so that every one is printed with the ground truth's judgment beside it). Teacher forcing
(critic_probe.py) scores each token after the right prefix; this reads what the critic wrote by itself, so
an early slip shows up in every step after it. For each response's sentence ("Response 1 mentions small
red circle: circle red large; red: circle red large; small: none; which is not, and ...; it misses square
blue small: score 50.") it counts:
- response-copied: where the judgment first copies each response word for word ('Response 1 says "There is a
  small red circle."', data since session 23), the copy as the response (pairwise examples; for one
  response, or a list of mentions, as the truth's copy);
- reference: "The image shows ..." written as the truth's;
- mentions-copied: the response's mentions restated in its order (the keys before each first colon);
  walk-follows-copy: the walk's mentions are those of the critic's own copy (read as the world reads a
  description: each shape word with the colour and size words before it, plurals and negations not read);
- for each mention copied right, by step: the lookup by shape, colour and size written as the truth's, and
  the decision ("which is in the image" / "which is not") as the truth's;
- decision-follows-walk: the decision is "not" exactly where the critic's own last step is "none";
- missed: the objects it says the response leaves out, as the truth's;
- score: the score as the truth's; score-follows-walk: the score is 100 x F1 of its own walk (2 x in /
  (mentions + objects of its own reference), rounded);
- verdict: the verdict as the truth's; verdict-follows-scores: the verdict is the response with the higher
  of its own two scores, a tie where they are equal;
- where the judgment sets the scores side by side ("Scores 67 and 50: the first is higher.", data since
  session 22): compared-copies-scores (the two numbers are its own scores), compared-follows-scores (the
  words say which is higher) and verdict-follows-compared (the verdict is what the words say).
"""

import collections
import json
import math
import re
import sys

# the world's words (shared/world/src/scene/vocab.rs)
WORDS = {
    "size": ("small", "large"),
    "colour": ("red", "green", "blue", "yellow", "purple", "white"),
    "shape": ("circle", "square", "triangle", "diamond", "cross"),
}
COPY = re.compile(r'(Response [12]|The response) says "(.*?)" ')
# session 23's first try copied each response's mentions as a list: "Response 1 mentions small red circle."
LIST_COPY = re.compile(r"(Response [12]|The response) mentions ([^:;]*?)\. ")
MENTION = re.compile(
    rf"\b((?:(?:{'|'.join(WORDS['size'] + WORDS['colour'])}) )*(?:{'|'.join(WORDS['shape'])}))\b"
)
# a response as the judgment copies it: the copy, the mentions in it, and whether it is word for word
Copy = collections.namedtuple("Copy", "text mentions word_for_word")
SENTENCE = re.compile(r"(Response [12]|The response) mentions (.*?); it misses (.*?): score (\d+)\.")
COMPARED = re.compile(r"Scores (\d+) and (\d+): (.*?)\.")
WALK = re.compile(r"(?:, and |, )?(.*?); which is (in the image|not)")


def walks(mentions):
    """[(key, [(step key, list)], decision)] of one sentence's mentions ("nothing": none)."""
    if mentions == "nothing":
        return []
    out = []
    for chunk, decision in WALK.findall(mentions):
        steps = chunk.split("; ")
        key, _, first = steps[0].partition(": ")
        lookups = [("shape", first)] + [tuple(s.split(": ", 1)) if ": " in s else (s, "") for s in steps[1:]]
        out.append((key, lookups, decision))
    return out


def higher(first, second):
    """The verdict two scores give: "1", "2" or "tie"."""
    return "tie" if first == second else "1" if first > second else "2"


def step_kind(key):
    """The kind of a lookup step after the first (by shape), from its key: "size" or "colour"."""
    return "size" if key in WORDS["size"] else "colour"


def n_objects(reference):
    """How many objects "The image shows ..." lists."""
    return 0 if reference in (None, "nothing") else len(reference.split(", "))


def f1_score(walked, objects):
    """100 x F1 of a walk, rounded half up as the world's scores are: 2 x found / (mentions + objects)."""
    found = sum(d == "in the image" for _, _, d in walked)
    total = len(walked) + objects
    return math.floor(100 * 2 * found / total + 0.5) if total else 0


def split_copies(judgment):
    """({label: Copy}, the rest) of a judgment: the responses it copies first, word for word or as a list,
    and what follows them (a copied response may itself say "The image shows ...")."""
    copies, end = {}, 0
    while copy := COPY.match(judgment, end) or LIST_COPY.match(judgment, end):
        text, word_for_word = copy.group(2), copy.re is COPY
        if word_for_word:
            mentions = MENTION.findall(text)
        else:
            mentions = [] if text == "nothing" else text.split(", ")
        copies[copy.group(1)] = Copy(text, mentions, word_for_word)
        end = copy.end()
    return copies, judgment[end:]


def parse(judgment):
    """({label: Copy}, reference objects, {label: (walks, missed, score)}, verdict) of a description
    judgment: the copies, then the reference, then the sentences."""
    copies, body = split_copies(judgment)
    shown = re.match(r"The image shows (.*?)\. ", body)
    reference = shown.group(1) if shown else None
    sentences = {
        label: (walks(mentions), missed, int(score)) for label, mentions, missed, score in SENTENCE.findall(body)
    }
    decided = re.findall(r"better response: \[(\d)\]", judgment)
    verdict = "tie" if "equally good" in judgment else decided[-1] if decided else None
    return copies, reference, sentences, verdict


def main():
    examples = json.load(open(sys.argv[1]))["examples"]
    stats = collections.defaultdict(lambda: [0, 0])

    def count(kind, right):
        stats[kind][0] += int(bool(right))
        stats[kind][1] += 1

    for e in examples:
        if not e["question"].startswith("Describe"):
            continue
        copies, ref, sentences, verdict = parse(e["critic"])
        true_copies, true_ref, true_sentences, true_verdict = parse(e["ground_truth"])
        for label, true_copy in true_copies.items():
            # a word-for-word copy is checked against the response itself, a list against the truth's list
            response = {"Response 1": e.get("first"), "Response 2": e.get("second")}.get(label)
            own = copies.get(label)
            if own and own.word_for_word and response is not None:
                count("response-copied", own.text == response.strip())
            else:
                count("response-copied", own is not None and own.text == true_copy.text)
        count("reference", ref == true_ref)
        objects = n_objects(ref)
        scores = {}
        for label, (true_walks, true_missed, true_score) in true_sentences.items():
            if label not in sentences:
                count("sentence-written", False)
                continue
            count("sentence-written", True)
            own_walks, missed, score = sentences[label]
            count("mentions-copied", [w[0] for w in own_walks] == [w[0] for w in true_walks])
            if label in copies:
                count("walk-follows-copy", [w[0] for w in own_walks] == copies[label].mentions)
            for (key, lookups, decision), (true_key, true_lookups, true_decision) in zip(own_walks, true_walks):
                if key != true_key:
                    continue
                for (step, written), (_, truth) in zip(lookups, true_lookups):
                    count(f"lookup-{'shape' if step == 'shape' else step_kind(step)}", written == truth)
                count("decision", decision == true_decision)
            for _, lookups, decision in own_walks:
                count("decision-follows-walk", (decision == "not") == (lookups[-1][1] == "none"))
            count("missed", missed == true_missed)
            count("score", score == true_score)
            count("score-follows-walk", score == f1_score(own_walks, objects))
            # the formula itself, on the truth's own walk
            count("truth-score-follows-truth-walk", true_score == f1_score(true_walks, n_objects(true_ref)))
            scores[label] = score
        count("verdict", verdict == true_verdict)
        if len(scores) == 2:
            a, b = scores["Response 1"], scores["Response 2"]
            count("verdict-follows-scores", verdict == higher(a, b))
        compared = COMPARED.search(e["critic"])
        if compared and len(scores) == 2:
            x, y, words = int(compared.group(1)), int(compared.group(2)), compared.group(3)
            count("compared-copies-scores", (x, y) == (scores["Response 1"], scores["Response 2"]))
            said = {"the same": "tie", "the first is higher": "1", "the second is higher": "2"}.get(words)
            count("compared-follows-scores", said == higher(x, y))
            count("verdict-follows-compared", verdict == said)
    for kind, (right, total) in stats.items():
        print(f"{kind:24s} {right}/{total} = {right / max(total, 1):.3f}")


if __name__ == "__main__":
    main()
