#!/usr/bin/env bash
# DPO step time and peak memory: criticloop-train vs TRL DPOTrainer on one checkpoint with Qwen2-0.5B's
# dimensions (random weights), the same 8 pairs, batch 2, CPU, in one run: float32, or with `bf16` mixed
# precision on both sides (float32 weights, bfloat16 matrix products: criticloop's `bf16`, TRL's `bf16=True`).
# Usage (after `source scripts/env`, with a release build of criticloop-train):
#   shared/train/bench/dpo_bench.sh [WORK_DIR] [STEPS] [f32|bf16]
# Prints one line per configuration: mean seconds per step over steps 2..STEPS, peak RSS, per-step losses.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-$HOME/.cache/criticloop/bench-dpo}
steps=${2:-3}
precision=${3:-f32}
[ "$precision" = f32 ] || [ "$precision" = bf16 ] || { echo "precision must be f32 or bf16, got $precision" >&2; exit 2; }
bf16=false; [ "$precision" = bf16 ] && bf16=true
bin=${CARGO_TARGET_DIR:-target}/release/criticloop-train
fixture="$here/../fixtures/dpo_fixture.py"
export TRANSFORMERS_VERBOSITY=error HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TQDM_DISABLE=1
[ -f "$work/ckpt/pairs.jsonl" ] || "$CRITICLOOP_PYTHON" "$fixture" bench-setup "$work/ckpt"
cat >"$work/config.json" <<JSON
{"learning_rate": 1e-5, "per_device_train_batch_size": 2, "max_steps": $steps, "shuffle": false, "bf16": $bf16}
JSON
# criticloop's full config (defaults filled in) for TRL's mapping
"$CRITICLOOP_PYTHON" - "$work/config.json" "$work/config.full.json" <<'PY'
import json, sys
defaults = {"beta": 0.1, "loss_type": "sigmoid", "label_smoothing": 0.0, "sft_weight": 0.0, "learning_rate": 1e-6,
    "weight_decay": 0.0, "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-8, "lr_scheduler_type": "linear",
    "warmup_ratio": 0.0, "warmup_steps": 0, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1,
    "max_grad_norm": 1.0, "num_train_epochs": 3, "max_steps": None, "seed": 42, "shuffle": True, "max_length": 1024,
    "precompute_ref_log_probs": False, "shared_prompt": False, "trainable": [], "save_steps": 0, "bf16": False}
defaults.update(json.load(open(sys.argv[1])))
json.dump(defaults, open(sys.argv[2], "w"))
PY

peak() { grep "Maximum resident set size" "$1" | awk '{printf "%.2f GiB", $6 / 1048576}'; }
summary() { # jsonl/json of steps -> "mean s/step (steps 2..), losses"
  "$CRITICLOOP_PYTHON" - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
jsonl = sys.argv[1].endswith(".jsonl")
steps = [json.loads(l) for l in text.splitlines()] if jsonl else json.loads(text)["steps"]
loss = [s.get("loss", s.get("step_loss")) for s in steps]
secs = [s["seconds"] for s in steps][1:] or [s["seconds"] for s in steps]
print(f"{sum(secs) / len(secs):.2f} s/step  losses {['%.6f' % l for l in loss]}")
PY
}

for mode in separate shared-prompt; do
  out="$work/ours-$mode"; rm -rf "$out"
  extra=(); [ "$mode" = shared-prompt ] && extra=(--shared-prompt)
  /usr/bin/time -v "$bin" dpo --base "$work/ckpt" --pairs "$work/ckpt/pairs.jsonl" --out "$out" \
    --config "$work/config.json" --no-shuffle "${extra[@]}" 2>"$work/ours-$mode.time" >/dev/null
  echo "criticloop ($mode): $(summary "$out/metrics.jsonl")  peak RSS $(peak "$work/ours-$mode.time")"
  rm -rf "$out"/model.safetensors
done
for gc in gc no-gc; do
  /usr/bin/time -v "$CRITICLOOP_PYTHON" "$fixture" bench-trl "$work/ckpt" "$work/ckpt/pairs.jsonl" \
    "$work/config.full.json" "$work/trl-$gc.json" "$gc" 2>"$work/trl-$gc.time" >/dev/null
  echo "TRL DPOTrainer ($gc): $(summary "$work/trl-$gc.json")  peak RSS $(peak "$work/trl-$gc.time")"
done
