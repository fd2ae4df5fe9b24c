"""Can a world checkpoint learn to look an object up by what it is? A text-only test, with transformers.

    lookup_probe.py CHECKPOINT [--task colour-of|colour-at|key-first|presence] [--steps 600] [--lr 1e-3]
                    [--batch 16] [--max-objects 4] [--seed 0] [--plain-gpt LAYERS] [--out DIR]

Fine-tunes CHECKPOINT (usually a fresh `init_llava.py` model) with plain PyTorch (AdamW, batch 16 unless
--batch, warm-up then cosine, gradient norm clipped at 1) on fresh prompts that spell a scene out in words,
"Objects: a small blue circle, a large yellow diamond.", followed by a question, and reports every 50 steps
the loss and then the accuracy of the answer's first token on 400 held-out prompts, by the number of objects:
- colour-at: "What colour is object two?", a lookup by position (these models learn it);
- colour-of: "What colour is the diamond?", a lookup by content (the shape named in the question);
- key-first: the same question, the scene written shape first ("Objects: circle blue small, ..."), so
  the word to find comes before the word to answer, as in an induction head's copy;
- presence: "Is there a yellow cross?", a lookup by content whose answer is whether it matched.
The world's short questions about an image need the lookup by content over the image tokens; this test
asks whether the language model learns one at all, without the vision tower in the way, in a minute or
two on two cores.
"""

import argparse
import collections
import math
import random

import torch
from question_probe import COLOURS, SHAPES
from transformers import AutoTokenizer, LlavaOnevisionForConditionalGeneration

ORDINALS = ["one", "two", "three", "four"]


def example(task, rnd, max_objects=4):
    """(prompt, answer, number of objects) of one prompt of `task`, about 1 to `max_objects` objects."""
    n = rnd.randint(1, max_objects)
    objects = [(rnd.choice(["small", "large"]), rnd.choice(COLOURS), s) for s in rnd.sample(SHAPES, n)]
    scene = "Objects: " + ", ".join(f"a {z} {c} {s}" for z, c, s in objects) + ". "
    k = rnd.randrange(n)
    if task == "colour-at":
        return scene + f"What colour is object {ORDINALS[k]}?", objects[k][1], n
    if task == "key-first":
        scene = "Objects: " + ", ".join(f"{s} {c} {z}" for z, c, s in objects) + ". "
    if task in ("colour-of", "key-first"):
        return scene + f"What colour is the {objects[k][2]}?", objects[k][1], n
    if rnd.random() < 0.5:
        colour, shape = objects[k][1], objects[k][2]
    else:
        present = {(c, s) for _, c, s in objects}
        colour, shape = rnd.choice([(c, s) for c in COLOURS for s in SHAPES if (c, s) not in present])
    present = any(c == colour and s == shape for _, c, s in objects)
    return scene + f"Is there a {colour} {shape}?", "yes" if present else "no", n


def encode(tok, prompt, answer):
    user = [{"role": "user", "content": prompt}]
    head = tok.encode(tok.apply_chat_template(user, add_generation_prompt=True, tokenize=False),
                      add_special_tokens=False)
    full = tok.encode(tok.apply_chat_template(user + [{"role": "assistant", "content": answer}], tokenize=False),
                      add_special_tokens=False)
    return full, len(head)


class PlainGpt(torch.nn.Module):
    """A textbook causal transformer (learned absolute positions, pre-norm LayerNorm, PyTorch's own layers),
    128 wide with 4 heads: the control for whether a failure is Qwen2's configuration or the task's."""

    def __init__(self, vocab, layers, width=128):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.position = torch.nn.Embedding(512, width)
        layer = torch.nn.TransformerEncoderLayer(width, 4, 4 * width, dropout=0.0, batch_first=True,
                                                 norm_first=True)
        self.layers = torch.nn.TransformerEncoder(layer, layers)
        self.norm = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, vocab)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        h = self.embed(input_ids) + self.position(torch.arange(n))
        causal = torch.nn.Transformer.generate_square_subsequent_mask(n)
        return self.head(self.norm(self.layers(h, mask=causal, is_causal=True)))


def logits_of(model, input_ids, attention_mask=None):
    if isinstance(model, PlainGpt):
        return model(input_ids)
    return model(input_ids=input_ids, attention_mask=attention_mask).logits


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--task", choices=["colour-of", "colour-at", "key-first", "presence"], default="colour-of")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--max-objects", type=int, default=4, choices=range(1, 5), help="in the training prompts")
    p.add_argument("--out", help="save the fine-tuned checkpoint here (not with --plain-gpt), for a next stage")
    p.add_argument("--plain-gpt", type=int, metavar="LAYERS",
                   help="train PlainGpt with LAYERS layers instead (CHECKPOINT then only gives the tokenizer)")
    a = p.parse_args()
    if a.out and a.plain_gpt:
        p.error("--out saves a transformers checkpoint; --plain-gpt trains none")

    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rnd = random.Random(a.seed)
    tok = AutoTokenizer.from_pretrained(a.checkpoint)
    if a.plain_gpt:
        model = PlainGpt(len(tok), a.plain_gpt)
    else:
        model = LlavaOnevisionForConditionalGeneration.from_pretrained(a.checkpoint)
    held = [example(a.task, random.Random(10_000 + i)) for i in range(400)]
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    warmup = max(1, a.steps // 20)
    for step in range(a.steps):
        lr = a.lr * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / a.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = [encode(tok, *example(a.task, rnd, a.max_objects)[:2]) for _ in range(a.batch)]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((a.batch, width), tok.pad_token_id)
        labels = torch.full((a.batch, width), -100)
        mask = torch.zeros((a.batch, width), dtype=torch.long)
        for i, (ids, start) in enumerate(batch):
            input_ids[i, : len(ids)] = torch.tensor(ids)
            mask[i, : len(ids)] = 1
            labels[i, start : len(ids)] = torch.tensor(ids[start:])
        logits = logits_of(model, input_ids, mask)[:, :-1]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if step % 50 == 0 or step == a.steps - 1:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)

    if a.out:
        model.save_pretrained(a.out)
        tok.save_pretrained(a.out)
    model.eval()
    right = collections.defaultdict(list)
    for prompt, answer, n in held:
        ids, start = encode(tok, prompt, answer)
        with torch.no_grad():
            logits = logits_of(model, torch.tensor([ids[:start]]))[0, -1]
        right[n].append(int(logits.argmax()) == ids[start])
    every = [x for v in right.values() for x in v]
    by_count = ", ".join(f"{n} objects {sum(v) / len(v):.3f}" for n, v in sorted(right.items()))
    print(f"{a.task}: first answer token right {sum(every) / len(every):.3f} ({by_count})")


if __name__ == "__main__":
    main()
