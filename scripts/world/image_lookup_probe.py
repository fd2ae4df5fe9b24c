"""Can a world checkpoint answer questions that name an object in the image? Plain PyTorch on the world's items.

    image_lookup_probe.py CHECKPOINT TRAIN_ITEMS HELDOUT_ITEMS [--family colour|presence|count]
                          [--said | --multi | --listed] [--mix 0.5] [--steps 600] [--lr 1e-3] [--batch 16]
                          [--seed 0] [--out DIR] [--show 8]

Fine-tunes CHECKPOINT with plain PyTorch (AdamW, warm-up then cosine, gradient norm clipped at 1) on the
--family questions of TRAIN_ITEMS (`criticloop world items` output: "What colour is the diamond?", "Is
there a red cross?", "How many squares are there?" about the image), and reports the accuracy of the
answer's last word (all of its tokens, teacher forced) on those of HELDOUT_ITEMS, by the number of objects
in the image; --steps 0 scores CHECKPOINT as it is.

Colour questions only: with --said the answer restates the object before its colour ("The diamond is
purple."), so the word to look up is the one just written; --multi asks instead for every object whose
shape is the only one of its kind, in a random order ("What colours are the cross and the circle?" "The
cross is red, the circle is green."), so that a row supervises several lookups, as lookup_probe.py's pairs
rows do; it reports the first colour word and the later ones.

With --mix each batch also carries that share of lookup_probe.py's text recall rows ("circle blue, cross
red. cross red, circle blue."), which keeps a recall circuit that CHECKPOINT learned there
(lookup_probe.py --pretrain pairs --out) from being trained away.

--listed makes the lookup over the image unnecessary: the answer first reads every object out of the image
in reading order, shape first ("cross blue, square white, square red."), then restates the listing's
entries of the asked shape, then answers ("... square white, square red. two."; `listed_answer`, the
format of criticloop's `world::listed_answer`). Reading out by position is what these models learn, and
the lookup is then one in text. It also reports the listing's tokens (teacher forced), how often the model
writes the whole listing right, and the answer's last word when the model writes the answer itself
(greedy), printing --show of those answers.
"""
import argparse
import collections
import json
import random

import torch
from lookup_probe import completion_loss, lr_at, padded, pairs_example, summary
from question_probe import SHAPES, image_of
from transformers import AutoProcessor, LlavaOnevisionForConditionalGeneration


def asked_shape(question):
    """The shape a colour, presence or count question names: "What colour is the diamond?", "Is there a red
    cross?", "How many crosses are there?"."""
    return next(s for s in SHAPES for w in question.rstrip("?").split() if w in (s, s + "s", s + "es"))


def family_rows(path, family):
    """(image, question, answer, asked shape, objects in reading order) of the `family` items in `path`."""
    rows = []
    for line in open(path):
        item = json.loads(line)
        world = item["world"]
        if world["family"] == family:
            rows.append((image_of(item), item["question"], world["answer"], asked_shape(item["question"]),
                         world["objects"]))
    return rows


def multi_question(objects, rnd):
    """(question, answer, [(colour, shape)] in the asked order) about every object whose shape is the only
    one of its kind in the image, in a random order: one lookup per object, each restated before its colour."""
    shapes = collections.Counter(o["shape"] for o in objects)
    asked = [(o["colour"], o["shape"]) for o in objects if shapes[o["shape"]] == 1]
    rnd.shuffle(asked)
    if not asked:
        return None
    names = [f"the {s}" for _, s in asked]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    answer = ", ".join(f"the {s} is {c}" for c, s in asked)
    return f"What colours are {listed}?", answer[0].upper() + answer[1:] + ".", asked


def listing(objects):
    """The scene read out shape first, in reading order: "diamond yellow, circle blue."."""
    return ", ".join(f"{o['shape']} {o['colour']}" for o in objects) + "."


def listed_answer(family, answer, shape, objects):
    """The scene's listing, then its entries of the asked shape (or "cross none"), then the answer:
    "square red, cross blue. cross blue." for a colour question (the entry ends in the answer), "square red,
    cross blue. cross blue. no." for "Is there a red cross?", "... square white, square red. square white,
    square red. two." for "How many squares are there?"."""
    entries = [f"{shape} {o['colour']}" for o in objects if o["shape"] == shape] or [f"{shape} none"]
    looked_up = f"{listing(objects)} {', '.join(entries)}."
    return looked_up if family == "colour" else f"{looked_up} {answer}."


def generated_answer(model, rows, image, question):
    """The answer the model writes itself (greedy, up to 48 tokens)."""
    ids, pixels, sizes, _ = rows.encode(image, question, None)
    with torch.no_grad():
        out = model.generate(input_ids=ids[None], attention_mask=torch.ones_like(ids)[None], pixel_values=pixels,
                             image_sizes=sizes, max_new_tokens=48, do_sample=False)
    return rows.tok.decode(out[0, len(ids) :], skip_special_tokens=True).strip()


def last_word(text):
    words = text.replace(",", " ").replace(".", " ").split()
    return words[-1] if words else None


def word_tokens(tok, answer, word):
    """Indices of the tokens of `answer`'s last `word` among `answer`'s tokens."""
    start = answer.rindex(word)
    spans = tok(answer, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return [k for k, (x, y) in enumerate(spans) if x < start + len(word) and y > start]


class Rows:
    def __init__(self, checkpoint, family, said, listed):
        self.proc = AutoProcessor.from_pretrained(checkpoint)
        self.tok = self.proc.tokenizer
        self.family, self.said, self.listed = family, said, listed

    def answer(self, answer, shape, objects):
        if self.listed:  # objects are in reading order in the world's items
            return listed_answer(self.family, answer, shape, objects)
        return f"The {shape} is {answer}." if self.said else answer

    def encode(self, image, question, answer):
        """(input ids, pixel values, image sizes, index of the answer's first token)."""
        user = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        head = self.proc.apply_chat_template(user, add_generation_prompt=True)
        x = self.proc(images=image, text=head, return_tensors="pt")  # the image is processed once
        if answer is None:
            return x["input_ids"][0], x["pixel_values"], x["image_sizes"], len(x["input_ids"][0])
        tail = self.tok.encode(answer + "<|im_end|>\n", add_special_tokens=False)
        ids = torch.cat([x["input_ids"][0], torch.tensor(tail)])
        return ids, x["pixel_values"], x["image_sizes"], len(x["input_ids"][0])


def loss_of(model, ids, mask, starts, **vision):
    return completion_loss(model(input_ids=ids, attention_mask=mask, **vision).logits, ids, mask, starts)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("train_items")
    p.add_argument("heldout_items")
    p.add_argument("--family", choices=["colour", "presence", "count"], default="colour",
                   help="the questions to train and score (--said and --multi: colour only)")
    p.add_argument("--said", action="store_true", help='answer "The diamond is purple." instead of "purple"')
    p.add_argument("--multi", action="store_true",
                   help="ask for the colour of every object of a unique shape at once, in a random order "
                        "(answers always restate the objects)")
    p.add_argument("--listed", action="store_true",
                   help="answer by reading every object out of the image first, then looking the shape up there")
    p.add_argument("--show", type=int, default=8, help="print the answers written to this many held-out items")
    p.add_argument("--out", help="save the fine-tuned checkpoint (and the processor) here")
    p.add_argument("--mix", type=float, default=0.0, help="share of text recall rows in each batch")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.said + a.multi + a.listed > 1:
        p.error("--said, --multi and --listed are different answers: pick one")
    if (a.said or a.multi) and a.family != "colour":
        p.error("--said and --multi ask colour questions only")

    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rnd = random.Random(a.seed)
    rows = Rows(a.checkpoint, a.family, a.said, a.listed)
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(a.checkpoint)
    train = family_rows(a.train_items, a.family)
    held = family_rows(a.heldout_items, a.family)
    print(f"{len(train)} training and {len(held)} held-out {a.family} questions", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    pad = rows.tok.pad_token_id
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(a.lr, step, a.steps)
        texts = sum(rnd.random() < a.mix for _ in range(a.batch))
        picked = rnd.sample(train, a.batch - texts)
        if a.multi:
            asked = [(im, multi_question(objects, rnd)) for im, _, _, _, objects in picked]
            batch = [rows.encode(im, *m[:2]) for im, m in asked if m]
        else:
            batch = [rows.encode(im, q, rows.answer(c, s, objects)) for im, q, c, s, objects in picked]
        ids, mask = padded([b[0] for b in batch], pad)
        loss = loss_of(model, ids, mask, [b[3] for b in batch], pixel_values=torch.cat([b[1] for b in batch]),
                       image_sizes=torch.cat([b[2] for b in batch]))
        total = loss * (a.batch - texts) / a.batch
        if texts:
            recall = [pairs_example(rows.tok, rnd) for _ in range(texts)]
            ids, mask = padded([r[0] for r in recall], pad)
            total = total + loss_of(model, ids, mask, [r[1] for r in recall]) * texts / a.batch
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if step % 50 == 0 or step == a.steps - 1:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)

    if a.out:
        model.save_pretrained(a.out)
        rows.proc.save_pretrained(a.out)
    model.eval()
    right, later, listed, written = collections.defaultdict(list), [], [], collections.defaultdict(list)
    read_out = []  # whether the model wrote the whole listing right
    for index, (image, question, truth, shape, objects) in enumerate(held):
        n = len(objects)
        if a.multi:
            question, answer, asked = multi_question(objects, random.Random(index))  # the question's shape is unique
        else:
            answer = rows.answer(truth, shape, objects)
        ids, pixels, sizes, start = rows.encode(image, question, answer)
        with torch.no_grad():
            predicted = model(input_ids=ids[None], pixel_values=pixels, image_sizes=sizes).logits[0].argmax(-1)
        at = start
        if a.listed:  # the listing's words, then the answer's last word after them
            said = rows.tok.encode(listing(objects), add_special_tokens=False)
            at = start + len(said)
            assert ids[start:at].tolist() == said, "the listing tokenizes differently inside the answer"
            listed += [int(predicted[i - 1]) == int(ids[i]) for i in range(start, at)]
            text = generated_answer(model, rows, image, question)
            written[n].append(last_word(text) == truth)
            read_out.append(text.startswith(listing(objects)))
            if index < a.show:
                print(f"{question} {listing(objects)} -> {text!r}")
        if not a.multi:  # every token of the answer's last word (" two" is " t", "wo"), teacher forced
            right[n].append(all(int(predicted[start + k - 1]) == int(ids[start + k])
                                for k in word_tokens(rows.tok, answer, truth)))
            continue
        for k, (colour, _) in enumerate(asked):  # each asked colour word, teacher forced
            at = next(i for i in range(at, len(ids)) if rows.tok.decode([int(ids[i])]).strip() == colour)
            (right[n] if k == 0 else later).append(int(predicted[at - 1]) == int(ids[at]))
            at += 1
    if listed:
        print(f"listing tokens right {sum(listed) / len(listed):.3f} ({len(listed)} tokens)")
        print(f"listing written by the model entirely right {sum(read_out) / len(read_out):.3f}")
        print(f"answer's last word written by the model right {summary(written)}")
    print(f"{'answer' if a.listed or a.family != 'colour' else 'first colour'} word right (teacher forced) "
          f"{summary(right)}")
    if later:
        print(f"later colour words right {sum(later) / len(later):.3f} ({len(later)} words)")


if __name__ == "__main__":
    main()
