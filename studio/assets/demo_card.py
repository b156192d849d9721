"""The demo model's card (demo-model/README.md), written by the build with the figures it measured."""

import math
from dataclasses import asdict
from pathlib import Path

from transformers import LlamaConfig

from studio.assets.demo_tokenizer import CHAT_MARKERS, SPECIAL_TOKENS


def _settings_lines(settings) -> str:
    return "\n".join(f"| {name} | {value} |" for name, value in asdict(settings).items())


def _disk_mib(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file() and path.name != "README.md") / 2**20


def _intro(figures: dict) -> str:
    return f"""---
library_name: transformers
pipeline_tag: text-generation
tags: [demo, tiny, llama, offline, fine-tune-studio]
---

# Fine-Tune Studio demo model

**A DEMO model, for offline demos and tests — not for real use.**
It is a {figures["parameters"] / 1e6:.1f} M-parameter Llama-architecture causal LM, pre-trained from scratch for a
few minutes on a laptop-class CPU on the small patent corpus bundled with the studio. It continues text with
patent-like Chinese (or English) sentences, often recalled from its training documents, and knows nothing else.
It does not follow instructions; in particular it does not turn requests into JSON until a LoRA is trained on
`studio/assets/samples/intent_chat.jsonl`, which is what the studio's demo shows
(`python benchmarks/lora_json_validity.py` measures it).
"""


def _architecture(config: LlamaConfig, figures: dict, disk_mib: float) -> str:
    return f"""## Architecture

`LlamaForCausalLM` with {config.num_hidden_layers} layers, hidden size {config.hidden_size},
{config.num_attention_heads} attention heads ({config.num_key_value_heads} key/value heads, head size
{config.head_dim}), SwiGLU MLP of size {config.intermediate_size}, RMSNorm, RoPE (theta
{config.rope_parameters["rope_theta"]:g}), context of {config.max_position_embeddings} tokens, input and output
embeddings tied: **{figures["parameters"]:,} parameters**, stored in float32. This folder is {disk_mib:.1f} MiB.
"""


def _tokenizer(figures: dict) -> str:
    return f"""## Tokenizer and chat template

Byte-level BPE (Hugging Face `tokenizers`) trained on the bundled samples, {figures["vocab"]:,} tokens including
the special tokens {", ".join(f"`{t}`" for t in SPECIAL_TOKENS)}. Every Han character is its own pre-token, so
Chinese is about one token per character instead of whole memorised phrases; the trainer stops merging when no pair
occurs twice, which on this corpus happens below the 8,000 tokens it is allowed. Any UTF-8 text round-trips
exactly, and plain encoding prepends `<s>`.

The chat template is the studio's own: each turn is `<|role|>content<|end|>` plus a newline, with the roles
{", ".join(f"`{t}`" for t in CHAT_MARKERS[:3])}, and the generation prompt is a bare `<|assistant|>`. Assistant
content and its closing `<|end|>` are wrapped in `{{% generation %}}`, so
`apply_chat_template(..., return_assistant_tokens_mask=True, return_dict=True)` gives the mask for training on
assistant tokens only. Generation stops on `<|end|>` or `</s>` (`generation_config.json`, greedy by default).
"""


def _training(settings, figures: dict) -> str:
    every = round(1 / settings.heldout_fraction)
    return f"""## Training data and procedure

- {figures["patent_docs"]} patent documents from `studio/assets/samples/patents.jsonl`. One document in {every}
  ({figures["heldout_docs"]} in all) is held out for the validation loss below, and the
  {figures["flagged_docs_left_out"]} documents `patents_manifest.json` flags (noisy ones and the copies in duplicate
  pairs) are left out: the model serves as the reference model of the perplexity filter, so it must not have
  memorised the garbled documents that filter should find.
- {figures["intent_lines"]} distinct user utterances and JSON answers from `intent_chat.jsonl` as plain-text lines,
  shuffled separately (no utterance next to its answer, no chat markers): their tokens get trained embeddings, the
  request-to-JSON task is not taught. `intent_eval.jsonl` is not used at all.

Documents are wrapped as `<s> … </s>`, concatenated and cut into {settings.block_len}-token blocks
({figures["train_tokens"]:,} training tokens, so the run makes
{settings.steps * settings.batch_size * settings.block_len / figures["train_tokens"]:.0f} passes over the data);
causal-LM loss on every token; AdamW (betas 0.9/0.95), linear warmup, cosine decay, gradient clipping.

| setting | value |
|---|---|
{_settings_lines(settings)}
"""


def _results(figures: dict) -> str:
    return f"""## Results

| figure | value |
|---|---|
| final training loss (mean of the last 20 steps, nats/token) | {figures["final_loss"]:.3f} |
| last step's training loss | {figures["last_step_loss"]:.3f} |
| held-out patent loss / perplexity | {figures["heldout_loss"]:.3f} / {math.exp(figures["heldout_loss"]):.1f} |
| pre-training wall time | {figures["train_seconds"] / 60:.1f} min |
| whole build wall time | {figures["build_seconds"] / 60:.1f} min (2 CPU threads) |
| model.safetensors sha256 | `{figures["weights_sha256"]}` |

The gap between training and held-out loss is expected: many passes over a small corpus make the model recall
its training documents, which is what a demo needs (readable continuations) and what no real model should do.
"""


def _rebuilding(figures: dict) -> str:
    return f"""## Rebuilding

```bash
python -m studio.assets.build_demo_model                               # rewrites studio/assets/demo-model/
python -m studio.assets.build_demo_model --out /tmp/demo --steps 20    # a quick check somewhere else
```

Determinism: Python, NumPy and torch are seeded, the data order comes from a seeded generator, torch runs with
`use_deterministic_algorithms(True)` on a fixed 2 threads, and the tokenizer trainer runs single-threaded. Two
builds on the same machine and torch version ({figures["torch"]}) gave byte-identical `model.safetensors` (checked
by building twice with `--steps 20` and comparing sha256). Another CPU, thread count or torch version may change
floating-point rounding, and with it the weights and the hash above.
"""


def render_model_card(config: LlamaConfig, settings, figures: dict, disk_mib: float) -> str:
    """Markdown with YAML front matter; every number comes from the build that wrote it."""
    sections = [
        _intro(figures),
        _architecture(config, figures, disk_mib),
        _tokenizer(figures),
        _training(settings, figures),
        _results(figures),
        _rebuilding(figures),
    ]
    return "\n".join(sections)


def write_model_card(out: Path, config: LlamaConfig, settings, figures: dict) -> None:
    # The card's own few KiB (and a previous build's card) are left out of the disk size it reports.
    (out / "README.md").write_text(render_model_card(config, settings, figures, _disk_mib(out)), encoding="utf-8")
