"""Generation throughput: criticloop's in-process runtime (`criticloop-model bench`) versus transformers'
`generate`, on the same random Qwen2 checkpoint, the same token-id prompts and the same sampling settings.

    python bench/model_peer.py --binary target/release/criticloop-model [--vocab 151936] [--new-tokens 32]

Each side runs in its own process (so each peak RSS is its own); the driver prints one JSON line per run and
a summary table. The checkpoint has Qwen2-0.5B's dimensions (hidden 896, 24 layers, 14 heads, 2 KV heads,
intermediate 4864, tied embeddings) with random weights, and is cached under ~/.cache/criticloop/.
Scenarios: 1 prompt x 1 sample, and 8 prompts x K=5 samples (criticloop prefills each prompt once and
shares the cache K ways; transformers' `num_return_sequences` prefills each copy).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def make_checkpoint(path, vocab):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        vocab_size=vocab,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=None,  # no stop token: both sides generate exactly --new-tokens per sample
        pad_token_id=0,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(cfg)
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    tmp = path + ".tmp"
    model.save_pretrained(tmp)
    os.replace(tmp, path)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_transformers(args):
    import torch
    from transformers import AutoModelForCausalLM

    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(args.checkpoint, dtype=torch.float32).eval()
    load_s = time.perf_counter() - t0
    with open(args.prompts_file) as f:
        prompts = json.load(f)
    ids = torch.tensor(prompts)  # equal lengths: no padding
    mask = torch.ones_like(ids)
    kw = dict(do_sample=True, temperature=args.temperature, top_p=args.top_p, top_k=args.top_k, pad_token_id=0)
    with torch.no_grad():
        model.generate(input_ids=ids[:1], attention_mask=mask[:1], max_new_tokens=2, **kw)  # warm-up
        t = time.perf_counter()
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=args.new_tokens,
            min_new_tokens=args.new_tokens,
            num_return_sequences=args.samples,
            **kw,
        )
        seconds = time.perf_counter() - t
    new_tokens = int((out.shape[1] - ids.shape[1]) * out.shape[0])
    print(
        json.dumps(
            {
                "side": "transformers",
                "prompts": len(prompts),
                "prompt_tokens": int(ids.numel()),
                "samples": args.samples,
                "new_tokens": new_tokens,
                "seconds": seconds,
                "tokens_per_s": new_tokens / seconds,
                "load_s": load_s,
                "threads": torch.get_num_threads(),
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


def drive(args):
    import numpy as np

    cache = os.path.expanduser(f"~/.cache/criticloop/bench-qwen2-0.5b-shape-v{args.vocab}")
    if not os.path.isdir(cache):
        print(f"[bench] creating the random checkpoint in {cache}", file=sys.stderr)
        make_checkpoint(cache, args.vocab)
    rng = np.random.default_rng(args.seed)
    results = []
    for n_prompts, k in [(1, 1), (args.prompts, args.samples)]:
        prompts = rng.integers(0, args.vocab, size=(n_prompts, args.prompt_len)).tolist()
        pf = os.path.join(cache, f"prompts-{n_prompts}.json")
        with open(pf, "w") as f:
            json.dump(prompts, f)
        common = ["--prompts-file", pf, "--samples", str(k), "--temperature", str(args.temperature),
                  "--top-p", str(args.top_p), "--top-k", str(args.top_k)]
        ours = [args.binary, "bench", "--checkpoint", cache, "--max-new-tokens", str(args.new_tokens),
                "--seed", str(args.seed), *common]
        theirs = [sys.executable, __file__, "transformers", "--checkpoint", cache, "--new-tokens",
                  str(args.new_tokens), *common]
        for cmd in (ours, theirs):
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
            line = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(line), flush=True)
            results.append(line)
    print()
    print(f"{'scenario':<18}{'side':<14}{'tokens/s':>10}{'seconds':>10}{'peak RSS MiB':>14}")
    for r in results:
        scen = f"{r['prompts']} x K={r['samples']}"
        print(f"{scen:<18}{r['side']:<14}{r['tokens_per_s']:>10.1f}{r['seconds']:>10.2f}{r['peak_rss_mib']:>14.0f}")
    for i in range(0, len(results), 2):
        print(f"speed-up {results[i]['prompts']} x K={results[i]['samples']}: "
              f"{results[i]['tokens_per_s'] / results[i + 1]['tokens_per_s']:.2f}x")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", nargs="?", default="drive", choices=["drive", "transformers"])
    p.add_argument("--binary", default="target/release/criticloop-model")
    p.add_argument("--checkpoint")
    p.add_argument("--prompts-file")
    p.add_argument("--vocab", type=int, default=151936)
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--prompt-len", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--top-p", type=float, default=0.9)
    p.add_argument("--top-k", type=int, default=50)  # transformers' default, set on both sides
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.mode == "transformers":
        run_transformers(args)
    else:
        drive(args)


if __name__ == "__main__":
    main()
