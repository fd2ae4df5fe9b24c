"""Teacher-forced accuracy of a world critic on the tokens where its judgment decides, read with transformers.

    critic_probe.py CHECKPOINT CRITIC_DATA [ROWS]

CRITIC_DATA is `criticloop world critic-data` output (its images beside it). For the first ROWS pairwise rows
(default 120) the checkpoint reads the prompt and the ground-truth judgment, and the script counts how often
its most likely next token is the data's at:
- reference-short: the answer word of the reference's "the answer is X." (what the critic sees in the image);
- decision-short-correct / -wrong: the word after "so it is" (the comparison of a response's answer with
  the reference), split by the right word;
- copy-desc-token / copy-desc-whole: each token of the responses copied before the image ('Response 1 says
  "There is a small red circle." Response 2 says "..."'; data since session 23), and all of a row's
  copies right; copy-desc-{size,colour,shape,other}: the copied tokens by the word
  they are;
- reference-desc: every token of "The image shows ..." (the critic's own description of the image);
- mention-desc-in / -not: the word after "which is" in a walked description ("small red circle: none; which
  is not" / "which is in the image"), split by the right word;
- score-desc: the first digit of a description's "score N";
- lookup-desc-{shape,colour,size} / lookup-desc-token: each step of a mention's lookup in the image
  ("small red circle: circle red large, circle blue small; red: circle red large; small: none; which is"),
  from a colon to its semicolon, right in full (by step: the objects of the mention's shape, then of its
  colour among those, then of its size) and token by token (data since session 21 walks descriptions shape
  first; since session 22 with the colour and size steps);
- copy-short-agrees / -differs-{listed,one-word}: the first token of a response's answer in 'Response N
  answers "X"' (a copy from the prompt), split by whether that answer is the reference's (a critic that
  writes its own answer there is right only where they agree) and by the response's style; recopy-short-*:
  the same where the sentence after the reference repeats it (data since session 15 copies each answer
  before the reference, then again beside it);
- verdict-short / verdict-desc: the number in "The better response: [N]." (the verdict given the decisions);
- verdict-first-token-*: the first token of the verdict line ("The" or "Two": decided or tie).
"""

import collections
import json
import os
import sys

import torch
from PIL import Image
from transformers import AutoProcessor, LlavaOnevisionForConditionalGeneration
from walk_check import WORDS, split_copies, step_kind


def word_kind(token):
    """"size", "colour" or "shape" for a token that is one of the world's words, else "other"."""
    return next((kind for kind, words in WORDS.items() if token.lstrip("Ġ") in words), "other")


def main():
    ckpt, data = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 120
    torch.set_num_threads(2)
    proc = AutoProcessor.from_pretrained(ckpt)
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(ckpt).eval()
    rows = [r for r in map(json.loads, open(data)) if "verdict" in r][:n]
    stats = collections.defaultdict(lambda: [0, 0])
    for r in rows:
        image = Image.open(os.path.join(os.path.dirname(data), r["images"][0])).convert("RGB")
        user = [{"type": "image"}, {"type": "text", "text": r["prompt"][0]["content"]}]
        prompt = proc.apply_chat_template([{"role": "user", "content": user}], add_generation_prompt=True)
        judgment = r["chosen"][0]["content"]
        enc = proc(images=image, text=prompt + judgment + "<|im_end|>", return_tensors="pt")
        start = proc(images=image, text=prompt, return_tensors="pt")["input_ids"].shape[1]
        with torch.no_grad():
            predicted = model(**enc).logits[0].argmax(-1)
        ids = enc["input_ids"][0]
        toks = proc.tokenizer.convert_ids_to_tokens(ids)
        family = "short" if "answers" in judgment else "desc"

        def count(kind, p):
            stats[kind][0] += int(predicted[p - 1] == ids[p])
            stats[kind][1] += 1

        answered = False
        judged = proc.tokenizer.decode(ids[start:]) if family == "short" else ""
        for p in range(start, len(ids)):
            before = "".join(toks[max(0, p - 3):p])
            prefix = proc.tokenizer.decode(ids[start:p]) if family == "short" else ""
            if before.endswith("ĠitĠis"):
                count(f"decision-{family}-" + ("correct" if toks[p] == "Ġcorre" else "wrong"), p)
            elif before.endswith("Ġ[") and "better" in "".join(toks[p - 4:p]):
                count(f"verdict-{family}", p)
            elif family == "short" and before.endswith("ĠanswerĠisĠ") and not answered:
                # the reference's answer, before the responses' sentences restate it
                count("reference-short", p)
                answered = True
            elif family == "short" and prefix.endswith('answers "'):
                given = judged[len(prefix):].split('"')[0]
                expected = judgment.split("The answer is ")[1].split(".")[0]
                # which response: the last "Response N" before it; listed responses have two full stops or more
                n = "first" if prefix.rfind("Response 1") > prefix.rfind("Response 2") else "second"
                response = r["prompt"][0]["content"].split(f"The {n} response: [")[1].split("]")[0]
                style = "listed" if response.count(".") >= 2 else "one-word"
                # the first copy reads the response; the one after the reference repeats the critic's own copy
                copy = "recopy" if answered else "copy"
                count(f"{copy}-short-{'agrees' if given == expected else 'differs'}-{style}", p)
            elif before.endswith("ĠwhichĠis"):
                count("mention-desc-" + ("in" if toks[p] == "Ġin" else "not"), p)
            elif family == "desc" and "".join(toks[max(0, p - 6):p]).endswith("ĠscoreĠ"):  # "score" is spelt out
                count("score-desc", p)
        if family == "desc":
            # each step of each mention's lookup, "small red circle: circle red large; red: circle red large;
            # small: none; which is": the tokens after a colon up to its semicolon, right in full and token by
            # token; a step whose key follows a semicolon is a colour or size step, the first is by shape
            for c in range(start, len(ids) - 3):
                if not toks[c].endswith(":"):
                    continue
                q = next((q for q in range(c + 1, len(ids)) if ";" in toks[q] or ":" in toks[q]), None)
                if q is None or ":" in toks[q]:
                    continue  # ": score N." or an unfinished walk
                key = proc.tokenizer.decode(ids[start:c + 1]).rsplit(":", 1)[0].rsplit(";", 1)[-1].strip()
                # the first step's key is the whole mention, after "mentions" or "which is ..., and"
                step = step_kind(key) if len(key.split()) == 1 or key == "no colour" else "shape"
                hits = [bool(predicted[p - 1] == ids[p]) for p in range(c + 1, q + 1)]
                stats[f"lookup-desc-{step}"][0] += int(all(hits))
                stats[f"lookup-desc-{step}"][1] += 1
                for p in range(c + 1, q + 1):
                    count("lookup-desc-token", p)
            # the responses copied before the image ('Response 1 says "There is a small red circle." Response 2
            # says "..."'), then "The image shows ... ." up to its full stop
            _, rest = split_copies(judgment)
            head = len(judgment[: len(judgment) - len(rest)].rstrip())
            p = start
            hits = []
            while len(proc.tokenizer.decode(ids[start:p])) < head:
                hits.append(bool(predicted[p - 1] == ids[p]))
                count("copy-desc-token", p)
                count(f"copy-desc-{word_kind(toks[p])}", p)
                p += 1
            if hits:
                stats["copy-desc-whole"][0] += int(all(hits))
                stats["copy-desc-whole"][1] += 1
            for p in range(p + 3, len(ids)):
                count("reference-desc", p)
                if "." in toks[p]:
                    break
        newlines = [p for p in range(start, len(ids)) if "Ċ" in toks[p]]
        if newlines:
            count(f"verdict-first-token-{family}", newlines[-1] + 1)
    for kind, (right, total) in sorted(stats.items()):
        print(f"{kind:32s} {right}/{total} = {right / max(total, 1):.3f}")


if __name__ == "__main__":
    main()
