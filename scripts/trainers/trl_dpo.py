#!/usr/bin/env python3
"""One round of DPO with TRL's DPOTrainer: the reference command of criticloop's external trainer.

criticloop's training service (CRITICLOOP_BACKEND__KIND=external) runs it with the placeholders filled in:

    CRITICLOOP_BACKEND__COMMAND='python scripts/trainers/trl_dpo.py --pairs {pairs} --base {base}
        --output {output} --work {work} --beta {beta} --learning-rate {learning_rate} --epochs {epochs}
        --seed {seed}'

and on a multi-GPU node under a launcher (the script is unchanged; TRL and accelerate shard the work):

    accelerate launch --num_processes 8 scripts/trainers/trl_dpo.py --pairs {pairs} ... --bf16
    torchrun --nproc-per-node 8 scripts/trainers/trl_dpo.py --pairs {pairs} ... --bf16

Input: `--pairs`, JSONL in TRL's format as criticloop exports it: {"id", "prompt", "chosen", "rejected",
"images"} with plain-text prompt and responses; when the base checkpoint has a chat template they become
TRL's conversational format (the prompt as the user's message, each response as the assistant's), as
criticloop's own trainer does. `images` are local paths; a checkpoint with an image processor
(LLaVA-OneVision) is trained with them through its processor.

Output: the trained checkpoint in `--output` (Hugging Face layout, safetensors, with the tokenizer and chat
template) and `--output/metrics.json`: the metrics TRL logs at the last step under TRL's names (loss,
rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracies, logps/chosen, logps/rejected),
train_loss, steps, pairs, bad_pairs (id and reason of pairs left out), history (every logged step),
config and versions.

Exit codes: 0 done; 2 bad arguments; 65 no usable pair (EX_DATAERR); 75 out of accelerator memory
(EX_TEMPFAIL: criticloop retries it by default); anything else is a failure criticloop does not retry.
"""

import argparse
import copy
import json
import os
import sys
import time

EX_DATAERR = 65
EX_TEMPFAIL = 75


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", required=True, help="JSONL pairs in TRL's format")
    p.add_argument("--base", required=True, help="the base checkpoint folder (also the DPO reference)")
    p.add_argument("--output", required=True, help="folder to write the trained checkpoint into")
    p.add_argument("--work", help="scratch folder for the trainer's state (default: OUTPUT/../trl)")
    p.add_argument("--beta", type=float, required=True)
    p.add_argument("--learning-rate", type=float, required=True)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    # LLaVA-NeXT's DPO recipe (criticloop's tch defaults) for the rest
    p.add_argument("--batch-size", type=int, default=1, help="per_device_train_batch_size")
    p.add_argument("--gradient-accumulation-steps", type=int, default=8)
    p.add_argument("--lr-scheduler", default="cosine", help="linear, cosine, constant, ...")
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--max-length", type=int, default=2048, help="capped by the checkpoint's context")
    p.add_argument("--loss-type", default="sigmoid", help="TRL's loss_type (sigmoid, ipo, hinge, ...)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 mixed precision (accelerators)")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even if an accelerator is present")
    p.add_argument("--no-gradient-checkpointing", action="store_true", help="TRL's default is on")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    return p.parse_args(argv)


def log(message):
    print(f"[trl_dpo] {message}", flush=True)


def read_pairs(path):
    """The usable rows, and the ids and reasons of the others."""
    rows, bad = [], []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            pid = str(row.get("id", number))
            missing = [k for k in ("prompt", "chosen", "rejected") if not str(row.get(k) or "").strip()]
            if missing:
                bad.append({"id": pid, "reason": f"empty {', '.join(missing)}"})
                continue
            images = [i for i in row.get("images") or [] if i]
            gone = [i for i in images if not os.path.isfile(i)]
            if gone:
                bad.append({"id": pid, "reason": f"image not readable: {gone[0]}"})
                continue
            rows.append({"id": pid, "prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"],
                         "images": images})
    return rows, bad


def conversational(rows, with_images):
    out = []
    for r in rows:
        content = r["prompt"]
        if with_images and r["images"]:
            content = [{"type": "image"} for _ in r["images"]] + [{"type": "text", "text": r["prompt"]}]
        out.append({
            "id": r["id"],
            "prompt": [{"role": "user", "content": content}],
            "chosen": [{"role": "assistant", "content": r["chosen"]}],
            "rejected": [{"role": "assistant", "content": r["rejected"]}],
            **({"images": r["images"]} if with_images else {}),
        })
    return out


def main(argv):
    args = parse_args(argv)
    import torch
    import transformers
    import trl
    from datasets import Dataset
    from transformers import AutoConfig, AutoModelForCausalLM, AutoProcessor, AutoTokenizer, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    rows, bad = read_pairs(args.pairs)
    for b in bad:
        log(f"pair {b['id']} left out: {b['reason']}")
    if not rows:
        print(f"no usable pair in {args.pairs} ({len(bad)} left out)", file=sys.stderr)
        return EX_DATAERR

    config = AutoConfig.from_pretrained(args.base)
    vision = hasattr(config, "vision_config")
    use_cpu = args.cpu or not torch.cuda.is_available()
    if vision:
        from transformers import AutoModelForImageTextToText
        processing = AutoProcessor.from_pretrained(args.base)
        tokenizer = processing.tokenizer
        model = AutoModelForImageTextToText.from_pretrained(args.base, dtype=torch.float32)
    else:
        processing = tokenizer = AutoTokenizer.from_pretrained(args.base)
        model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
        dropped = [r for r in rows if r["images"]]
        for r in dropped:
            bad.append({"id": r["id"], "reason": "the prompt has an image; the base checkpoint is text-only"})
            log(f"pair {r['id']} left out: it has an image and {args.base} is text-only")
        rows = [r for r in rows if not r["images"]]
        if not rows:
            print("every pair has an image and the base checkpoint is text-only", file=sys.stderr)
            return EX_DATAERR
    if tokenizer.chat_template:
        rows = conversational(rows, vision)
    elif not vision:
        rows = [{k: r[k] for k in ("id", "prompt", "chosen", "rejected")} for r in rows]
    if vision:
        from PIL import Image
        for r in rows:
            r["images"] = [Image.open(i).convert("RGB") for i in r["images"]]
    context = getattr(config, "max_position_embeddings", None) or getattr(
        getattr(config, "text_config", None), "max_position_embeddings", None)
    max_length = min(args.max_length, context) if context else args.max_length

    work = args.work or os.path.join(os.path.dirname(os.path.abspath(args.output)), "trl")
    dpo = DPOConfig(
        output_dir=work,
        beta=args.beta,
        loss_type=[args.loss_type],
        learning_rate=args.learning_rate,
        num_train_epochs=args.epochs,
        seed=args.seed,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        lr_scheduler_type=args.lr_scheduler,
        warmup_steps=args.warmup_ratio,  # transformers 5: a float below 1 is a ratio
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        max_length=max_length,
        bf16=args.bf16 and not use_cpu,
        use_cpu=use_cpu,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        **({"gradient_checkpointing": False} if args.no_gradient_checkpointing else {}),
    )

    history = []

    class Steps(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_):
            if logs and "rewards/chosen" in logs:
                rec = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float))}
                rec["step"] = state.global_step
                history.append(rec)
                if state.is_world_process_zero:
                    log(f"step {state.global_step}/{state.max_steps} loss {rec.get('loss', float('nan')):.6f} "
                        f"margin {rec['rewards/margins']:.6f} accuracy {rec['rewards/accuracies']:.3f}")

    trainer = DPOTrainer(
        model=model,
        ref_model=copy.deepcopy(model),
        args=dpo,
        train_dataset=Dataset.from_list(rows),
        processing_class=processing,
        callbacks=[Steps()],
    )
    log(f"training {len(rows)} pairs from {args.base}: beta {args.beta}, learning rate {args.learning_rate}, "
        f"{args.epochs} epoch(s), seed {args.seed}, {'cpu' if use_cpu else 'accelerator'}, trl {trl.__version__}")
    try:
        result = trainer.train()
    except torch.OutOfMemoryError as e:
        print(f"out of accelerator memory: {e}", file=sys.stderr)
        return EX_TEMPFAIL
    trainer.save_model(args.output)  # gathers sharded weights; writes on the main process only
    if not trainer.is_world_process_zero():
        return 0
    extra = os.path.join(args.output, "training_args.bin")
    if os.path.exists(extra):
        os.remove(extra)
    last = history[-1] if history else {}
    names = ["loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
             "logps/chosen", "logps/rejected"]
    metrics = {k: last[k] for k in names if k in last}
    metrics.update({
        "train_loss": result.training_loss,
        "steps": result.global_step,
        "pairs": len(rows),
        "bad_pairs": bad,
        "history": history,
        "trainer": "trl",
        "config": {
            "beta": args.beta, "learning_rate": args.learning_rate, "num_train_epochs": args.epochs,
            "seed": args.seed, "per_device_train_batch_size": args.batch_size,
            "gradient_accumulation_steps": args.gradient_accumulation_steps, "lr_scheduler_type": args.lr_scheduler,
            "warmup_ratio": args.warmup_ratio, "weight_decay": args.weight_decay,
            "max_grad_norm": args.max_grad_norm, "max_length": max_length, "loss_type": args.loss_type,
            "bf16": dpo.bf16, "device": "cpu" if use_cpu else "accelerator", "world_size": trainer.args.world_size,
        },
        "versions": {"trl": trl.__version__, "transformers": transformers.__version__, "torch": torch.__version__},
        "trainer_seconds": time.time() - started,
    })
    with open(os.path.join(args.output, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    log(f"saved {args.output}: train_loss {result.training_loss:.6f} after {result.global_step} step(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
