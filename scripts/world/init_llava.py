"""A random LLaVA-OneVision checkpoint for the generated world, made with transformers itself.

    init_llava.py --tokenizer DIR --out DIR [--image-size 48 --patch-size 8 --hidden 128 --layers 4
                  --vision-hidden 64 --vision-layers 2 --seed 0]

The tokenizer folder is `criticloop world tokenizer`'s (its `<image>`, `<video>`, `<|im_end|>` and
`<|endoftext|>` become the model's special ids); the checkpoint gets that tokenizer and a processor whose
only grid pinpoint is one tile, so an image takes (size / patch)^2 base features plus one grid tile's
unpadded features and newlines. Initialisation is transformers' own (normal, std 0.02).
"""

import argparse
import os

import torch
from transformers import (
    AutoTokenizer,
    LlavaOnevisionConfig,
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionImageProcessor,
    LlavaOnevisionProcessor,
    LlavaOnevisionVideoProcessor,
    Qwen2Config,
    SiglipVisionConfig,
)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--image-size", type=int, default=48)
    p.add_argument("--patch-size", type=int, default=8)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vision-hidden", type=int, default=64)
    p.add_argument("--vision-layers", type=int, default=2)
    p.add_argument("--max-positions", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    tok = AutoTokenizer.from_pretrained(a.tokenizer)
    ids = {t: tok.convert_tokens_to_ids(t) for t in ["<image>", "<video>", "<|im_end|>", "<|endoftext|>"]}
    vision = SiglipVisionConfig(
        hidden_size=a.vision_hidden, intermediate_size=4 * a.vision_hidden, num_hidden_layers=a.vision_layers,
        num_attention_heads=max(1, a.vision_hidden // 32), image_size=a.image_size, patch_size=a.patch_size,
        vision_use_head=False,
    )
    text = Qwen2Config(
        vocab_size=len(tok), hidden_size=a.hidden, intermediate_size=4 * a.hidden, num_hidden_layers=a.layers,
        num_attention_heads=a.heads, num_key_value_heads=max(1, a.heads // 2), max_position_embeddings=a.max_positions,
        bos_token_id=None, eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=True,
    )
    pinpoints = [[a.image_size, a.image_size]]
    cfg = LlavaOnevisionConfig(
        vision_config=vision.to_dict(), text_config=text.to_dict(), image_token_index=ids["<image>"],
        video_token_index=ids["<video>"], vision_feature_select_strategy="full", vision_feature_layer=-1,
        vision_aspect_ratio="anyres_max_9", image_grid_pinpoints=pinpoints, tie_word_embeddings=True,
    )
    model = LlavaOnevisionForConditionalGeneration(cfg).eval()
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    os.makedirs(a.out, exist_ok=True)
    model.save_pretrained(a.out)
    size = {"height": a.image_size, "width": a.image_size}
    LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=pinpoints),
        tokenizer=tok, video_processor=LlavaOnevisionVideoProcessor(size=size),
        num_image_tokens=(a.image_size // a.patch_size) ** 2, vision_feature_select_strategy="full",
        vision_aspect_ratio="anyres_max_9", chat_template=tok.chat_template,
    ).save_pretrained(a.out)
    tok.save_pretrained(a.out)
    n = sum(p.numel() for p in model.parameters())
    print(f"{a.out}: {n / 1e6:.2f}M parameters")


if __name__ == "__main__":
    main()
