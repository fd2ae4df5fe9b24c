"""Fixtures for the dataset_* tests: LLaVA-Critic-113k parquet (both configs, images embedded the way
Hugging Face `datasets` stores an Image feature), a LLaVA JSON file with an image folder, a JSONL file,
and broken files. Writes expected.json with what an import must yield.

Usage: python make_fixtures.py OUT_DIR
"""

import base64
import hashlib
import io
import json
import os
import struct
import sys
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
expected = {}


def encode(width, height, fmt, seed):
    img = Image.new("RGB", (width, height))
    img.putdata([((x * 7 + seed * 31) % 256, (y * 5 + seed * 17) % 256, (x + y + seed) % 256)
                 for y in range(height) for x in range(width)])
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def image_info(data, width, height, fmt):
    return {"sha256": hashlib.sha256(data).hexdigest(), "width": width, "height": height, "format": fmt}


def png_header_bomb(width, height):
    """A valid PNG signature and IHDR that claims an enormous image, followed by a tiny IDAT."""
    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


png_a = encode(32, 24, "PNG", 1)
png_b = encode(16, 16, "PNG", 2)
jpeg_c = encode(40, 30, "JPEG", 3)
truncated_png = png_a[: len(png_a) // 2]
truncated_jpeg = jpeg_c[: len(jpeg_c) // 2]
bomb = png_header_bomb(200_000, 200_000)
big = encode(1, 1, "PNG", 4)  # replaced below by an image over the test's width limit
big_img = Image.new("L", (5000, 10))
buf = io.BytesIO()
big_img.save(buf, format="PNG")
too_wide = buf.getvalue()

# ---------------------------------------------------------------- LLaVA-Critic-113k parquet
conv_type = pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())]))
image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
schema = pa.schema([("id", pa.string()), ("source", pa.string()), ("conversations", conv_type), ("image", image_type)])
hf_metadata = {"huggingface": json.dumps({"info": {"features": {
    "id": {"dtype": "string", "_type": "Value"}, "source": {"dtype": "string", "_type": "Value"},
    "conversations": [{"from": {"dtype": "string", "_type": "Value"}, "value": {"dtype": "string", "_type": "Value"}}],
    "image": {"_type": "Image"}}}})}
schema = schema.with_metadata(hf_metadata)

PAIRWISE = ("Given an image and a corresponding question, please serve as an unbiased and fair judge to evaluate "
            "the quality of the answers provided by a Large Multimodal Model (LMM). Determine which answer is better "
            "and explain your reasoning with specific details. Your task is provided as follows:\n"
            "Question: [{q}]\nThe first response: [{a}]\nThe second response: [{b}]\nASSISTANT:\n")
POINTWISE = ("Given an image and a corresponding question, please serve as an unbiased and fair judge to evaluate "
             "the quality of answer answers provided by a Large Multimodal Model (LMM). Score the response out of 100 "
             "and explain your reasoning with specific details. Your task is provided as follows:\nQuestion: [{q}]\n"
             "The LMM response: [{a}]\nASSISTANT:\n ")


def critic_rows(config, n):
    rows, exp_rows, exp_rejected = [], [], []
    images = [(png_a, 32, 24, "png"), (png_b, 16, 16, "png"), (jpeg_c, 40, 30, "jpeg")]
    for i in range(n):
        rid = f"{config}-{i:04d}"
        q = f"What is in picture {i}? \u00e9\u4e2d"
        if config == "pairwise":
            human = "<image>\n" + PAIRWISE.format(q=q, a=f"A cat {i}", b=f"A dog {i}")
            gpt = f"The better response: [{1 + i % 2}]. Because ..."
        else:
            human = "<image>\n" + POINTWISE.format(q=q, a=f"A cat {i}")
            gpt = f"Score: {i % 100}. The response ..."
        conv = [{"from": "human", "value": human}, {"from": "gpt", "value": gpt}]
        source = "VLFeedback" if i % 3 else "RLAIF-V"
        data, w, h, fmt = images[i % 3]
        image = {"bytes": data, "path": f"{rid}.{fmt}"}
        reject = None
        if i == 5:
            image = {"bytes": truncated_png, "path": "broken.png"}
            reject = "image"
        elif i == 7:
            image = None
        elif i == 9:
            image = {"bytes": bomb, "path": "bomb.png"}
            reject = "image"
        elif i == 11:
            conv = []
            reject = "empty_conversation"
        rows.append({"id": rid, "source": source, "conversations": conv, "image": image})
        if reject:
            exp_rejected.append({"row_number": i + 1, "id": rid, "code": reject})
        else:
            exp_rows.append({"row_number": i + 1, "id": rid, "source": source, "conversations": conv,
                             "image": None if image is None else image_info(data, w, h, fmt)})
    return rows, exp_rows, exp_rejected


for config, n in (("pairwise", 20), ("pointwise", 13)):
    rows, exp_rows, exp_rejected = critic_rows(config, n)
    table = pa.Table.from_pylist(rows, schema=schema)
    os.makedirs(f"{out}/critic/{config}", exist_ok=True)
    pq.write_table(table, f"{out}/critic/{config}/train-00000-of-00001.parquet", row_group_size=4)
    expected[f"critic_{config}"] = {"rows": exp_rows, "rejected": exp_rejected}

# Broken parquet files.
good = f"{out}/critic/pairwise/train-00000-of-00001.parquet"
with open(good, "rb") as f:
    good_bytes = f.read()
os.makedirs(f"{out}/broken", exist_ok=True)
with open(f"{out}/broken/truncated.parquet", "wb") as f:
    f.write(good_bytes[: len(good_bytes) * 2 // 3])
# A file whose footer is intact but whose last row group has a damaged image page (the page checksum fails
# only when that page is read, after the earlier row groups were already handed to the sink).
rows, _, _ = critic_rows("pairwise", 20)
pq.write_table(pa.Table.from_pylist(rows, schema=schema), f"{out}/broken/corrupt_page.parquet", row_group_size=4,
               compression="none", write_page_checksum=True, use_dictionary=False)
meta = pq.ParquetFile(f"{out}/broken/corrupt_page.parquet").metadata
last = meta.row_group(meta.num_row_groups - 1)
image_bytes = next(last.column(j) for j in range(last.num_columns) if last.column(j).path_in_schema == "image.bytes")
damage_at = image_bytes.data_page_offset + image_bytes.total_compressed_size - 40
with open(f"{out}/broken/corrupt_page.parquet", "r+b") as f:
    f.seek(damage_at)
    f.write(b"\xff" * 16)
wrong = pa.table({"id": pa.array([1, 2], pa.int64()), "conversations": pa.array(
    [[{"from": "human", "value": "q"}]] * 2, conv_type)})
pq.write_table(wrong, f"{out}/broken/id_not_string.parquet")
missing = pa.table({"id": ["a", "b"], "text": ["q1", "q2"]})
pq.write_table(missing, f"{out}/broken/no_conversations.parquet")

# ---------------------------------------------------------------- LLaVA JSON + image folder
os.makedirs(f"{out}/llava/images/coco", exist_ok=True)
for name, data in (("a.png", png_a), ("b.png", png_b), ("c.jpg", jpeg_c), ("broken.jpg", truncated_jpeg),
                   ("wide.png", too_wide), ("notes.png", b"this is not an image")):
    with open(f"{out}/llava/images/coco/{name}", "wb") as f:
        f.write(data)
llava = [
    {"id": "000000001", "image": "coco/a.png", "conversations": [
        {"from": "human", "value": "<image>\nWhat color dominates?"}, {"from": "gpt", "value": "Red."},
        {"from": "human", "value": "Anything else?"}, {"from": "gpt", "value": "Green."}]},
    {"id": 2, "image": "coco/c.jpg", "conversations": [{"from": "human", "value": "<image>\nDescribe."}],
     "model": "llava-v1.5"},
    {"id": "3", "conversations": [{"from": "human", "value": "Text only."}]},
    {"id": "4", "image": "coco/missing.png", "conversations": [{"from": "human", "value": "x"}]},
    {"id": "5", "image": "coco/broken.jpg", "conversations": [{"from": "human", "value": "x"}]},
    {"id": "6", "image": "coco/wide.png", "conversations": [{"from": "human", "value": "x"}]},
    {"id": "7", "image": "coco/notes.png", "conversations": [{"from": "human", "value": "x"}]},
    {"id": "8", "image": "../../etc/passwd", "conversations": [{"from": "human", "value": "x"}]},
    {"image": "coco/a.png", "conversations": [{"from": "human", "value": "no id"}]},
    {"id": "10", "image": "coco/b.png", "conversations": [{"from": "human", "value": 5}]},
    "not an object",
    {"id": "12", "image": "coco/a.png", "conversations": [{"from": "human", "value": "<image>\nSame image again."}]},
]
with open(f"{out}/llava/data.json", "w") as f:
    json.dump(llava, f, indent=1, ensure_ascii=False)
expected["llava"] = {
    "rows": [
        {"row_number": 1, "id": "000000001", "source": None, "conversations": llava[0]["conversations"],
         "image": image_info(png_a, 32, 24, "png")},
        {"row_number": 2, "id": "2", "source": None, "conversations": llava[1]["conversations"],
         "image": image_info(jpeg_c, 40, 30, "jpeg"), "extra": {"model": "llava-v1.5"}},
        {"row_number": 3, "id": "3", "source": None, "conversations": llava[2]["conversations"], "image": None},
        {"row_number": 12, "id": "12", "source": None, "conversations": llava[11]["conversations"],
         "image": image_info(png_a, 32, 24, "png")},
    ],
    "rejected": [
        {"row_number": 4, "id": "4", "code": "image_file_missing"},
        {"row_number": 5, "id": "5", "code": "image"},
        {"row_number": 6, "id": "6", "code": "image"},
        {"row_number": 7, "id": "7", "code": "image"},
        {"row_number": 8, "id": "8", "code": "image_path_not_relative"},
        {"row_number": 9, "id": None, "code": "missing_field"},
        {"row_number": 10, "id": "10", "code": "wrong_type"},
        {"row_number": 11, "id": None, "code": "not_an_object"},
    ],
}
text = json.dumps(llava)
with open(f"{out}/broken/truncated.json", "w") as f:
    f.write(text[: len(text) // 2])
with open(f"{out}/broken/not_array.json", "w") as f:
    json.dump({"id": "1"}, f)

# ---------------------------------------------------------------- JSONL
data_uri = "data:image/png;base64," + base64.b64encode(png_b).decode()
jsonl = [
    {"id": "p1", "image": "llava/images/coco/a.png", "question": "What is shown?", "answer": "A gradient."},
    {"id": "p2", "image": data_uri, "question": "And here?", "source": "synthetic"},
    {"id": "p3", "question": "No image at all."},
    {"id": "p4", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}],
     "image": "llava/images/coco/c.jpg"},
    {"id": "p5", "image": "data:image/png;base64,@@@", "question": "bad base64"},
    {"id": "p6", "question": "both", "conversations": [{"from": "human", "value": "x"}]},
    {"id": "p7", "image": "llava/images/coco/missing.png", "question": "missing file"},
]
with open(f"{out}/prompts.jsonl", "w") as f:
    for i, record in enumerate(jsonl):
        f.write(json.dumps(record) + "\n")
        if i == 2:
            f.write("\n")  # blank lines are skipped but counted
human = lambda text: [{"from": "human", "value": text}]
expected["jsonl"] = {
    "rows": [
        {"row_number": 1, "id": "p1", "source": None, "conversations": human("What is shown?"),
         "image": image_info(png_a, 32, 24, "png"), "extra": {"answer": "A gradient."}},
        {"row_number": 2, "id": "p2", "source": "synthetic", "conversations": human("And here?"),
         "image": image_info(png_b, 16, 16, "png")},
        {"row_number": 3, "id": "p3", "source": None, "conversations": human("No image at all."), "image": None},
        {"row_number": 5, "id": "p4", "source": None, "conversations": jsonl[3]["conversations"],
         "image": image_info(jpeg_c, 40, 30, "jpeg")},
    ],
    "rejected": [
        {"row_number": 6, "id": "p5", "code": "bad_data_uri"},
        {"row_number": 7, "id": "p6", "code": "ambiguous_conversation"},
        {"row_number": 8, "id": "p7", "code": "image_file_missing"},
    ],
}
lines = open(f"{out}/prompts.jsonl").read()
with open(f"{out}/broken/truncated.jsonl", "w") as f:
    f.write(lines[: len(lines) - 30])

with open(f"{out}/expected.json", "w") as f:
    json.dump(expected, f, indent=1, ensure_ascii=False)
