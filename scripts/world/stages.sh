# Shared by scripts/world/train_policy, train_critic and train_small (sourced, not run): one stage of
# supervised fine-tuning of the world's tiny LLaVA with criticloop's own trainer (`criticloop-train dpo
# --loss sft`), skipped when its checkpoint exists, then scored on the held-out rows.
#
#   train_stage OUT NAME BASE DATA STEPS SEED LR [BATCH] [MAX_LENGTH]     (16 and 512 unless given)
#
# Rows longer than MAX_LENGTH tokens (image tokens included) are left out by the trainer, which says how
# many in OUT/NAME.log; the critic stages' description judgments need 768 (session 22).
# Leaves OUT/NAME (a Hugging Face checkpoint with metrics.jsonl), OUT/NAME.log (the trainer's stderr) and
# OUT/NAME/heldout.json (criticloop-heldout-eval on OUT/heldout.jsonl). Needs $bin (the release binaries).
log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

train_stage() {
  local out=$1 name=$2 base=$3 data=$4 steps=$5 seed=$6 lr=$7 batch=${8:-16} max_length=${9:-512}
  if [ ! -f "$out/$name/model.safetensors" ]; then
    log "$name: $(wc -l <"$data") rows, $steps steps at batch $batch"
    local start
    start=$(date +%s)
    "$bin/criticloop-train" dpo --loss sft --base "$base" --pairs "$data" --out "$out/$name" --lr "$lr" \
      --batch-size "$batch" --max-steps "$steps" --schedule cosine --warmup-ratio 0.05 --max-grad-norm 1 \
      --seed "$seed" --max-length "$max_length" >/dev/null 2>"$out/$name.log"
    log "$name trained in $(($(date +%s) - start)) s"
  fi
}

heldout_eval() {
  local out=$1 name=$2
  "$bin/criticloop-heldout-eval" --checkpoint "$out/$name" --items "$out/heldout.jsonl" >"$out/$name/heldout.json"
  log "$name held out: $(tr -d '\n ' <"$out/$name/heldout.json" | head -c 600)"
}

# criticloop-critic-eval of the critic OUT/NAME on OUT/heldout.jsonl (pairs drawn from the world at quality
# 0.6, both orders, seed 5), written to OUT/NAME/accuracy.json and logged; further args go to critic-eval.
critic_eval() {
  local out=$1 name=$2
  shift 2
  "$bin/criticloop-critic-eval" --critic "$out/$name" --items "$out/heldout.jsonl" --quality 0.6 --seed 5 "$@" \
    >"$out/$name/accuracy.json"
  log "$name accuracy: $(tr -d '\n ' <"$out/$name/accuracy.json" | head -c 800)"
}
