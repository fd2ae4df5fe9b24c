"""Does recall learned on words carry over to the image? The world's colour questions, with transformers.

    image_lookup_probe.py CHECKPOINT TRAIN_ITEMS HELDOUT_ITEMS [--said | --multi | --listed] [--mix 0.5]
                          [--steps 600] [--lr 1e-3] [--batch 16] [--seed 0]

Fine-tunes CHECKPOINT with plain PyTorch (AdamW, warm-up then cosine, gradient norm clipped at 1) on the
colour questions of TRAIN_ITEMS (`criticloop world items` output: "What colour is the diamond?" about the
image), and reports the accuracy of the colour word on the colour questions of HELDOUT_ITEMS (teacher
forced), by the number of objects in the image. With --said the answer restates the object before its
colour ("The diamond is purple."), so the word to look up is the one just written; with --mix each batch
also carries that share of lookup_probe.py's text recall rows ("circle blue, cross red. cross red, circle
blue."), which keeps a recall circuit that CHECKPOINT learned there (lookup_probe.py --pretrain pairs --out)
from being trained away. --multi asks instead for every object whose shape is the only one of its kind,
in a random order ("What colours are the cross and the circle?" "The cross is red, the circle is green."),
so that a row supervises several lookups, as lookup_probe.py's pairs rows do; it then also reports the
accuracy of the colour words after the first.

--listed makes the lookup over the image unnecessary: the answer first reads every object out of the image
in reading order, shape first, as lookup_probe.py's pairs rows write them ("diamond yellow, circle blue."),
then answers by looking the shape up in that text ("diamond yellow."). Reading out by position is what
these models learn, and the text lookup is what lookup_probe.py's recall base learned. It reports the
listing's words (teacher forced), the answer's colour word teacher forced after a true listing, and the
answer's colour word when the model writes the whole answer itself (greedy).
"""

import argparse
import collections
import json
import random

import torch
from lookup_probe import completion_loss, lr_at, padded, pairs_example, summary
from question_probe import COLOURS, image_of
from transformers import AutoProcessor, LlavaOnevisionForConditionalGeneration


def colour_rows(path):
    rows = []
    for line in open(path):
        item = json.loads(line)
        world = item["world"]
        if world["family"] == "colour":
            shape = item["question"].rstrip("?").split()[-1]
            rows.append((image_of(item), item["question"], world["answer"], shape, world["objects"]))
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


def generated_colour(model, rows, image, question):
    """The last colour word of the answer the model writes itself (greedy, up to 48 tokens), or None."""
    ids, pixels, sizes, _ = rows.encode(image, question, None)
    with torch.no_grad():
        out = model.generate(input_ids=ids[None], attention_mask=torch.ones_like(ids)[None], pixel_values=pixels,
                             image_sizes=sizes, max_new_tokens=48, do_sample=False)
    words = rows.tok.decode(out[0, len(ids):], skip_special_tokens=True).replace(",", " ").replace(".", " ").split()
    colours = [w for w in words if w in COLOURS]
    return colours[-1] if colours else None


class Rows:
    def __init__(self, checkpoint, said, listed):
        self.proc = AutoProcessor.from_pretrained(checkpoint)
        self.tok = self.proc.tokenizer
        self.said, self.listed = said, listed

    def answer(self, colour, shape, objects):
        if self.listed:  # objects are in reading order in the world's items
            return listing(objects) + f" {shape} {colour}."
        return f"The {shape} is {colour}." if self.said else colour

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
    p.add_argument("--said", action="store_true", help='answer "The diamond is purple." instead of "purple"')
    p.add_argument("--multi", action="store_true",
                   help="ask for the colour of every object of a unique shape at once, in a random order "
                        "(answers always restate the objects)")
    p.add_argument("--listed", action="store_true",
                   help="answer by reading every object out of the image first, then looking the shape up there")
    p.add_argument("--mix", type=float, default=0.0, help="share of text recall rows in each batch")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.said + a.multi + a.listed > 1:
        p.error("--said, --multi and --listed are different answers: pick one")

    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rnd = random.Random(a.seed)
    rows = Rows(a.checkpoint, a.said, a.listed)
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(a.checkpoint)
    train = colour_rows(a.train_items)
    held = colour_rows(a.heldout_items)
    print(f"{len(train)} training and {len(held)} held-out colour questions", flush=True)
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

    model.eval()
    right, later, listed, written = collections.defaultdict(list), [], [], collections.defaultdict(list)
    for index, (image, question, colour, shape, objects) in enumerate(held):
        n = len(objects)
        if a.multi:
            question, answer, asked = multi_question(objects, random.Random(index))  # the question's shape is unique
        else:
            answer, asked = rows.answer(colour, shape, objects), [(colour, shape)]
        ids, pixels, sizes, start = rows.encode(image, question, answer)
        with torch.no_grad():
            predicted = model(input_ids=ids[None], pixel_values=pixels, image_sizes=sizes).logits[0].argmax(-1)
        at = start
        if a.listed:  # the listing's words, then the answer's colour word after them
            said = rows.tok.encode(listing(objects), add_special_tokens=False)
            at = start + len(said)
            assert ids[start:at].tolist() == said, "the listing tokenizes differently inside the answer"
            listed += [int(predicted[i - 1]) == int(ids[i]) for i in range(start, at)]
            written[n].append(generated_colour(model, rows, image, question) == colour)
        for k, (colour, _) in enumerate(asked):  # each asked colour word, teacher forced
            at = next(i for i in range(at, len(ids)) if rows.tok.decode([int(ids[i])]).strip() == colour)
            (right[n] if k == 0 else later).append(int(predicted[at - 1]) == int(ids[at]))
            at += 1
    if listed:
        print(f"listing tokens right {sum(listed) / len(listed):.3f} ({len(listed)} tokens)")
        print(f"answer's colour word written by the model right {summary(written)}")
    print(f"{'answer' if a.listed else 'first'} colour word right (teacher forced) {summary(right)}")
    if later:
        print(f"later colour words right {sum(later) / len(later):.3f} ({len(later)} words)")


if __name__ == "__main__":
    main()
