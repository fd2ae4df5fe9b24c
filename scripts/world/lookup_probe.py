"""Can a world checkpoint learn to look an object up by what it is? A text-only test, with transformers.

    lookup_probe.py CHECKPOINT [--task colour-of|colour-at|key-first|colour-said|key-first-said|presence]
                    [--steps 600] [--lr 1e-3] [--batch 16] [--max-objects 4] [--seed 0]
                    [--pretrain repeat|pairs --pretrain-steps N] [--mix SHARE] [--match-init]
                    [--plain-gpt LAYERS] [--out DIR]

Fine-tunes CHECKPOINT (usually a fresh `init_llava.py` model) with plain PyTorch (AdamW, batch 16 unless
--batch, warm-up then cosine, gradient norm clipped at 1) on fresh prompts that spell a scene out in words,
"Objects: a small blue circle, a large yellow diamond.", followed by a question, and reports the loss every
50 steps and then the accuracy of the looked-up answer word (teacher forced) on 400 held-out prompts, by
the number of objects:
- colour-at: "What colour is object two?", a lookup by position (these models learn it);
- colour-of: "What colour is the diamond?", a lookup by content (the shape named in the question);
- key-first: the same question, the scene written shape first ("Objects: circle blue small, ..."), so
  the word to find comes before the word to answer, as in an induction head's copy;
- colour-said: colour-of answered "The diamond is yellow.", the object restated before its colour;
- key-first-said: key-first answered "The diamond yellow": the answer's last word follows the looked-up
  word exactly as it does in the scene (the induction head's own pattern);
- presence: "Is there a yellow cross?", a lookup by content whose answer is whether it matched.
--pretrain first trains --pretrain-steps steps on a language-model task with the loss on every token of
a second copy: `repeat` (random tokens written twice) or `pairs` (the world's words as key-value pairs,
"circle blue, cross red. cross red, circle blue.", with its recall accuracy every 500 steps); --mix then
keeps that share of `pairs` rows in the task's batches. --match-init starts every query head equal to its
key head. The world's short questions about an image need the lookup by content over the image tokens;
this test asks whether the language model learns one at all, without the vision tower in the way, in a
minute or two on two cores.
"""

import argparse
import collections
import math
import os
import random
import shutil

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
    if task in ("key-first", "key-first-said"):
        scene = "Objects: " + ", ".join(f"{s} {c} {z}" for z, c, s in objects) + ". "
    _, colour, shape = objects[k]
    answers = {"colour-of": colour, "key-first": colour, "key-first-said": f"The {shape} {colour}",
               "colour-said": f"The {shape} is {colour}."}
    if task in answers:
        return scene + f"What colour is the {shape}?", answers[task], n
    if rnd.random() < 0.5:
        colour, shape = objects[k][1], objects[k][2]
    else:
        present = {(c, s) for _, c, s in objects}
        colour, shape = rnd.choice([(c, s) for c in COLOURS for s in SHAPES if (c, s) not in present])
    present = any(c == colour and s == shape for _, c, s in objects)
    return scene + f"Is there a {colour} {shape}?", "yes" if present else "no", n


def repeat_example(rnd, vocab):
    """A random token sequence written twice after a random lead, the loss on the second copy: the task on
    which induction heads (find where this token was before, copy what followed it) form in a language
    model. Lengths vary so that every position up to 120 is trained (PlainGpt's positions are learned)."""
    lead = [rnd.randrange(vocab) for _ in range(rnd.randint(0, 40))]
    ids = [rnd.randrange(vocab) for _ in range(rnd.randint(8, 40))]
    return lead + ids + ids, len(lead) + len(ids) + 1


def pairs_example(tok, rnd):
    """The scene's words as key-value pairs in one order, then again in another, the loss on the second
    listing: "circle blue, cross red. cross red, circle blue." (associative recall in the world's words)."""
    n = rnd.randint(2, 6)
    pairs = [(s, rnd.choice(COLOURS)) for s in rnd.sample(SHAPES, min(n, len(SHAPES)))]
    first = tok.encode(", ".join(f"{s} {c}" for s, c in pairs) + ". ", add_special_tokens=False)
    rnd.shuffle(pairs)
    second = tok.encode(", ".join(f"{s} {c}" for s, c in pairs) + ".", add_special_tokens=False)
    return first + second, len(first)


def pairs_accuracy(model, tok, count=300):
    """Share of the colours in the second listing of held-out pairs_example rows predicted right (teacher
    forced): the recall itself, where chance is about a random pick among the listing's colours."""
    colours = {tok.encode(" " + c, add_special_tokens=False)[0] for c in COLOURS}
    right = []
    for i in range(count):
        ids, start = pairs_example(tok, random.Random(20_000 + i))
        with torch.no_grad():
            predicted = logits_of(model, torch.tensor([ids[:-1]]))[0].argmax(-1)
        right += [int(predicted[j - 1]) == ids[j] for j in range(start, len(ids)) if ids[j] in colours]
    return sum(right) / len(right)


def encode(tok, prompt, answer):
    user = [{"role": "user", "content": prompt}]
    head = tok.encode(tok.apply_chat_template(user, add_generation_prompt=True, tokenize=False),
                      add_special_tokens=False)
    full = tok.encode(tok.apply_chat_template(user + [{"role": "assistant", "content": answer}], tokenize=False),
                      add_special_tokens=False)
    return full, len(head)


def completion_offsets(tok, prompt, answer):
    """(ids, each token's character span, where the answer starts) of the chat-formatted row: for finding
    the tokens of a word or a span of `answer` by its character offset (the world tokenizer may split a
    word into several tokens)."""
    user = [{"role": "user", "content": prompt}]
    text = tok.apply_chat_template(user + [{"role": "assistant", "content": answer}], tokenize=False)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    head = len(tok.apply_chat_template(user, add_generation_prompt=True, tokenize=False))
    return enc["input_ids"], enc["offset_mapping"], head


def token_at(offsets, char):
    """The position of the token that holds character `char`."""
    return next(i for i, (a, b) in enumerate(offsets) if a <= char < b)


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


def match_init(model):
    """Gives every query head its key head's weights (q = k), so that attention starts out favouring
    positions whose content is like the query's own: the content-matching prior a pretrained LLM has."""
    config = model.config.text_config
    group = config.num_attention_heads // config.num_key_value_heads
    dim = config.hidden_size // config.num_attention_heads
    with torch.no_grad():
        for layer in model.model.language_model.layers:
            q, k = layer.self_attn.q_proj, layer.self_attn.k_proj
            for h in range(config.num_attention_heads):
                kv = h // group
                q.weight[h * dim : (h + 1) * dim] = k.weight[kv * dim : (kv + 1) * dim]
                if q.bias is not None:
                    q.bias[h * dim : (h + 1) * dim] = k.bias[kv * dim : (kv + 1) * dim]


def logits_of(model, input_ids, attention_mask=None):
    if isinstance(model, PlainGpt):
        return model(input_ids)
    return model(input_ids=input_ids, attention_mask=attention_mask).logits


def lr_at(base, step, steps):
    """The learning rate at `step` of `steps`: linear warm-up over the first 5%, then cosine to zero."""
    warmup = max(1, steps // 20)
    return base * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / steps))


def padded(seqs, pad):
    """(ids, attention mask) of token sequences padded on the right to the longest."""
    ids = torch.full((len(seqs), max(len(s) for s in seqs)), pad)
    mask = torch.zeros(ids.shape, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


def completion_loss(logits, ids, mask, starts):
    """Mean next-token cross-entropy over each row's tokens from its start on, padding left out."""
    labels = ids.masked_fill(mask == 0, -100)
    for i, start in enumerate(starts):
        labels[i, :start] = -100
    logits = logits[:, :-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


def summary(right):
    """'0.650 (1 objects 1.000, 2 objects ...)' of {object count: [right or not]}."""
    every = [x for v in right.values() for x in v]
    by_count = ", ".join(f"{n} objects {sum(v) / len(v):.3f}" for n, v in sorted(right.items()))
    return f"{sum(every) / len(every):.3f} ({by_count})"


def train(model, tok, a, steps, make, name, report=None, report_every=500):
    """`steps` steps of AdamW at a.lr (lr_at's schedule) on batches of `make()` = (ids, start of the loss),
    printing the loss every 50 steps and `report(last)` (in eval mode) every `report_every` steps and at
    the end (`last` true)."""
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(a.lr, step, steps)
        batch = [make() for _ in range(a.batch)]
        ids, mask = padded([b[0] for b in batch], tok.pad_token_id)
        loss = completion_loss(logits_of(model, ids, mask), ids, mask, [b[1] for b in batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if step % 50 == 0 or step == steps - 1:
            print(f"{name} step {step}: loss {loss.item():.4f}", flush=True)
        if report and (step % report_every == report_every - 1 or step == steps - 1):
            model.eval()
            print(f"{name} step {step}: {report(step == steps - 1)}", flush=True)
            model.train()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--task", choices=["colour-of", "colour-at", "key-first", "colour-said", "key-first-said",
                                       "presence"], default="colour-of")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--max-objects", type=int, default=4, choices=range(1, 5), help="in the training prompts")
    p.add_argument("--pretrain", choices=["repeat", "pairs"],
                   help="first train --pretrain-steps steps on this language-model task (loss on every token "
                        "of the second copy), before the task")
    p.add_argument("--pretrain-steps", type=int, default=0)
    p.add_argument("--mix", type=float, default=0.0, help="share of pairs rows among the task's rows")
    p.add_argument("--match-init", action="store_true", help="start every query head equal to its key head")
    p.add_argument("--out", help="save the fine-tuned checkpoint here (not with --plain-gpt), for a next stage")
    p.add_argument("--plain-gpt", type=int, metavar="LAYERS",
                   help="train PlainGpt with LAYERS layers instead (CHECKPOINT then only gives the tokenizer)")
    a = p.parse_args()
    if a.out and a.plain_gpt:
        p.error("--out saves a transformers checkpoint; --plain-gpt trains none")
    if a.match_init and a.plain_gpt:
        p.error("--match-init sets Qwen2's query heads; --plain-gpt has none to set")
    if bool(a.pretrain) != bool(a.pretrain_steps):
        p.error("--pretrain and --pretrain-steps go together")

    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rnd = random.Random(a.seed)
    tok = AutoTokenizer.from_pretrained(a.checkpoint)
    if a.plain_gpt:
        model = PlainGpt(len(tok), a.plain_gpt)
    else:
        model = LlavaOnevisionForConditionalGeneration.from_pretrained(a.checkpoint)
        if a.match_init:
            match_init(model)
    held = [example(a.task, random.Random(10_000 + i)) for i in range(400)]
    if a.pretrain == "repeat":
        vocab = tok.vocab_size  # the words, not the added special tokens
        train(model, tok, a, a.pretrain_steps, lambda: repeat_example(rnd, vocab), "pretrain repeat")
    elif a.pretrain == "pairs":
        report = lambda last: f"recall accuracy {pairs_accuracy(model, tok):.3f}"  # noqa: E731
        train(model, tok, a, a.pretrain_steps, lambda: pairs_example(tok, rnd), "pretrain pairs", report)
    task = lambda: encode(tok, *example(a.task, rnd, a.max_objects)[:2])  # noqa: E731
    mixed = lambda: pairs_example(tok, rnd) if rnd.random() < a.mix else task()  # noqa: E731
    train(model, tok, a, a.steps, mixed if a.mix else task, a.task)

    if a.out:
        model.save_pretrained(a.out)
        tok.save_pretrained(a.out)
        for name in os.listdir(a.checkpoint):  # the image processor's files, which the run never touched
            if not os.path.exists(os.path.join(a.out, name)):
                shutil.copy(os.path.join(a.checkpoint, name), a.out)
    model.eval()
    right = collections.defaultdict(list)
    for prompt, answer, n in held:
        ids, start = encode(tok, prompt, answer)
        word = answer.rstrip(".").split()[-1]  # the looked-up word is the answer's last in every task
        at = next(i for i in range(start, len(ids)) if tok.decode([ids[i]]).strip() == word)
        with torch.no_grad():
            logits = logits_of(model, torch.tensor([ids[:at]]))[0, -1]
        right[n].append(int(logits.argmax()) == ids[at])
    print(f"{a.task}: first answer token right {summary(right)}")


if __name__ == "__main__":
    main()
