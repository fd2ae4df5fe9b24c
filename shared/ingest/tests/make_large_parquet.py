"""A large LLaVA-Critic-layout parquet file for the peak-memory test: incompressible text, a few embedded
PNG images (stored the way `datasets` stores an Image feature), and large row groups.

Usage: python make_large_parquet.py OUT_FILE SIZE_MB ROWS_PER_ROW_GROUP
"""

import io
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

out, size_mb, group_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pngs = []
for seed in range(4):
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), (seed * 50, 100, 200)).save(buf, format="PNG")
    pngs.append(buf.getvalue())

conv_type = pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())]))
image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
schema = pa.schema([("id", pa.string()), ("source", pa.string()), ("conversations", conv_type), ("image", image_type)])
text_bytes = 1500
rows_total = size_mb * 1024 * 1024 // (2 * text_bytes * 2)
writer = pq.ParquetWriter(out, schema, compression="none")
row = 0
while row < rows_total:
    n = min(group_rows, rows_total - row)
    ids = [f"row-{row + i}" for i in range(n)]
    conversations = [[{"from": "human", "value": "<image>\n" + os.urandom(text_bytes).hex()},
                      {"from": "gpt", "value": os.urandom(text_bytes).hex()}] for _ in range(n)]
    images = [{"bytes": pngs[(row + i) // 100 % 4], "path": None} if (row + i) % 100 == 0 else None for i in range(n)]
    table = pa.Table.from_pydict({"id": ids, "source": ["synthetic"] * n, "conversations": conversations,
                                  "image": images}, schema=schema)
    writer.write_table(table, row_group_size=group_rows)
    row += n
writer.close()
print(rows_total)
