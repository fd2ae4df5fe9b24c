"""Aggregates `criticloop demo --report` tables (OUT/ARM-SEED.json) into one Markdown table: per arm and
round, the mean over seeds of each column with its standard error (sample standard deviation / sqrt(n)),
and for rounds after 0 the change from round 0.

    learning_table.py OUT
"""

import glob
import json
import math
import os
import sys
from collections import defaultdict

SCORES = ["short EM", "desc F1", "recall", "halluc", "relative", "win vs 0"]
ARMS = ["critic", "oracle", "random"]


def mean_se(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    m = sum(values) / len(values)
    if len(values) < 2:
        return m, None
    var = sum((v - m) ** 2 for v in values) / (len(values) - 1)
    return m, math.sqrt(var / len(values))


def cell(values, base=None, digits=3):
    m, se = mean_se(values)
    if m is None:
        return "-"
    text = f"{m:.{digits}f}"
    if base is not None:
        deltas = [v - b for v, b in zip(values, base) if v is not None and b is not None]
        dm, dse = mean_se(deltas)
        if dm is not None:
            text += f" ({dm:+.3f}" + (f" ± {dse:.3f})" if dse is not None else ")")
    elif se is not None:
        text += f" ± {se:.{digits}f}"
    return text


def main():
    out = sys.argv[1]
    runs = defaultdict(dict)  # arm -> seed -> report
    for path in sorted(glob.glob(os.path.join(out, "*-*.json"))):
        arm, seed = os.path.basename(path)[: -len(".json")].rsplit("-", 1)
        with open(path) as f:
            runs[arm][seed] = json.load(f)
    header = ["arm", "round", "seeds"] + SCORES + ["pairs", "right", "inverted", "judge acc", "+ties", "pos cons"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for arm in [a for a in ARMS if a in runs] + sorted(set(runs) - set(ARMS)):
        seeds = sorted(runs[arm])
        tables = [runs[arm][s]["rounds"] for s in seeds]
        rounds = min(len(t) for t in tables)
        base = [t[0]["scores"] for t in tables]
        for r in range(rounds):
            rows = [t[r] for t in tables]
            line = [arm if r else f"{arm} (round 0 = no training)", str(rows[0]["round"]), str(len(seeds))]
            for col in SCORES:
                values = [row["scores"].get(col) for row in rows]
                line.append(cell(values, [b.get(col) for b in base] if r else None))
            q = [row["quality"] for row in rows]
            if all(q):
                line.append(cell([x["pairs"] for x in q], digits=0))
                line.append(cell([x["right"] / x["pairs"] if x["pairs"] else None for x in q]))
                line.append(cell([x["inverted"] / x["pairs"] if x["pairs"] else None for x in q]))
                for key in ["accuracy_without_ties", "accuracy_with_ties", "position_consistency"]:
                    line.append(cell([x["judge"].get(key) for x in q]))
            else:
                line += ["-"] * 6
            print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    main()
