"""Generation throughput: criticloop's in-process runtime (`criticloop-model bench`) versus transformers'
`generate`, on the same random Qwen2 checkpoint, the same token-id prompts and the same sampling settings.

    python bench/model_peer.py --binary target/release/criticloop-model [--vocab 151936] [--new-tokens 32]
    python bench/model_peer.py --vision --prompts 2 ...   (LLaVA-OneVision-0.5B's shape, one image per prompt)

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


VISION_SIZE = 384
VISION_PINPOINTS = [[VISION_SIZE * i, VISION_SIZE * j] for i in range(1, 7) for j in range(1, 7)]


def make_llava_checkpoint(path, vocab):
    """LLaVA-OneVision-0.5B's shape with random weights: SigLIP so400m (1152 wide, 26 layers, 384 px tiles
    of 14 px patches), the 2-layer projector and the Qwen2-0.5B language model; anyres_max_9 over 1x1..6x6
    tiles; a processor (with the model fixtures' small tokenizer, which holds `<image>`)."""
    import torch
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
        Qwen2Config,
        SiglipVisionConfig,
    )

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared", "model", "fixtures"))
    from qwen2_fixture import build_tokenizer

    tmp = path + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    tok = build_tokenizer(tmp)
    vision = SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=26, num_attention_heads=16,
                                image_size=VISION_SIZE, patch_size=14, vision_use_head=False)
    text = Qwen2Config(vocab_size=vocab, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                       num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                       rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, bos_token_id=None,
                       eos_token_id=None, pad_token_id=0)
    cfg = LlavaOnevisionConfig(
        vision_config=vision.to_dict(), text_config=text.to_dict(),
        image_token_index=tok.convert_tokens_to_ids("<image>"), video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_select_strategy="full", vision_feature_layer=-1, vision_aspect_ratio="anyres_max_9",
        image_grid_pinpoints=VISION_PINPOINTS, tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = LlavaOnevisionForConditionalGeneration(cfg).eval()
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    model.save_pretrained(tmp)
    size = {"height": VISION_SIZE, "width": VISION_SIZE}
    LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=VISION_PINPOINTS),
        tokenizer=tok, video_processor=LlavaOnevisionVideoProcessor(size=size), num_image_tokens=729,
        vision_feature_select_strategy="full", vision_aspect_ratio="anyres_max_9", chat_template=tok.chat_template,
    ).save_pretrained(tmp)
    tok.save_pretrained(tmp)
    os.replace(tmp, path)


def make_image(path):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    h, w = 384, 384  # one grid tile plus the base tile: 729 + 27 x 28 = 1485 image tokens
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / (w - 1), yy * 255 / (h - 1), (xx * 3 + yy) % 256], axis=-1)
    Image.fromarray(np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)).save(path)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_transformers(args):
    import torch
    from transformers import AutoModelForCausalLM

    t0 = time.perf_counter()
    extra, image_tokens = {}, None
    with open(args.prompts_file) as f:
        prompts = json.load(f)
    if args.image:
        from PIL import Image
        from transformers import LlavaOnevisionForConditionalGeneration, LlavaOnevisionProcessor

        model = LlavaOnevisionForConditionalGeneration.from_pretrained(args.checkpoint, dtype=torch.float32).eval()
        processor = LlavaOnevisionProcessor.from_pretrained(args.checkpoint)
        image = Image.open(args.image).convert("RGB")
        # the `<image>` run the processor makes for this image, before each prompt's token ids
        run = processor(images=[image], text="<image>", return_tensors="pt")["input_ids"][0].tolist()
        image_tokens = len(run)
        prompts = [run + p for p in prompts]
        pixels = processor.image_processor([image] * len(prompts), return_tensors="pt")
        extra = {"pixel_values": pixels["pixel_values"], "image_sizes": pixels["image_sizes"]}
    else:
        model = AutoModelForCausalLM.from_pretrained(args.checkpoint, dtype=torch.float32).eval()
    load_s = time.perf_counter() - t0
    ids = torch.tensor(prompts)  # equal lengths: no padding
    mask = torch.ones_like(ids)
    kw = dict(do_sample=True, temperature=args.temperature, top_p=args.top_p, top_k=args.top_k, pad_token_id=0)
    with torch.no_grad():
        first = {k: v[:1] for k, v in extra.items()}
        model.generate(input_ids=ids[:1], attention_mask=mask[:1], max_new_tokens=2, **first, **kw)  # warm-up
        t = time.perf_counter()
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=args.new_tokens,
            min_new_tokens=args.new_tokens,
            num_return_sequences=args.samples,
            **extra,
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
                "image_tokens": image_tokens,
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

    kind = "llava-ov-0.5b" if args.vision else "qwen2-0.5b"
    cache = os.path.expanduser(f"~/.cache/criticloop/bench-{kind}-shape-v{args.vocab}")
    if not os.path.isdir(cache):
        print(f"[bench] creating the random checkpoint in {cache}", file=sys.stderr)
        (make_llava_checkpoint if args.vision else make_checkpoint)(cache, args.vocab)
    image = []
    if args.vision:
        path = os.path.join(cache, "image.png")
        if not os.path.isfile(path):
            make_image(path)
        image = ["--image", path]
    rng = np.random.default_rng(args.seed)
    results = []
    for n_prompts, k in [(1, 1), (args.prompts, args.samples)]:
        # past the tokenizer's special ids, so no text token is an `<image>` placeholder
        low = 1000 if args.vision else 0
        prompts = rng.integers(low, args.vocab, size=(n_prompts, args.prompt_len)).tolist()
        pf = os.path.join(cache, f"prompts-{n_prompts}.json")
        with open(pf, "w") as f:
            json.dump(prompts, f)
        common = ["--prompts-file", pf, "--samples", str(k), "--temperature", str(args.temperature),
                  "--top-p", str(args.top_p), "--top-k", str(args.top_k)]
        ours = [args.binary, "bench", "--checkpoint", cache, "--max-new-tokens", str(args.new_tokens),
                "--seed", str(args.seed), *common, *image]
        theirs = [sys.executable, __file__, "transformers", "--checkpoint", cache, "--new-tokens",
                  str(args.new_tokens), *common, *image]
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
        if results[i].get("image_tokens") != results[i + 1].get("image_tokens"):
            sys.exit(f"image tokens differ: {results[i]['image_tokens']} vs {results[i + 1]['image_tokens']}")
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
    p.add_argument("--vision", action="store_true", help="LLaVA-OneVision-0.5B's shape, an image per prompt")
    p.add_argument("--image", help="(per side) the image every prompt shows")
    args = p.parse_args()
    if args.mode == "transformers":
        run_transformers(args)
    else:
        drive(args)


if __name__ == "__main__":
    main()
