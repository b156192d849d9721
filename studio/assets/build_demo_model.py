"""Rebuilds the bundled demo model (studio/assets/demo-model/) from the bundled samples, deterministically.

    python -m studio.assets.build_demo_model [--out DIR] [--steps N]

Trains the byte-level BPE tokenizer (studio/assets/demo_tokenizer.py), creates a tiny Llama-architecture causal LM
and pre-trains it from scratch on the patent corpus (plus the intent-training utterances and JSON answers as
unpaired plain-text lines, so those tokens get trained embeddings without the model learning the task), then
writes the weights, tokenizer, generation config and a model card with the measured numbers.

The model is a demo for offline runs and tests: it continues text in the style of the patents and nothing more.
"""

import argparse
import hashlib
import json
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from studio.assets import DEMO_MODEL_DIR, SAMPLES_DIR
from studio.assets.demo_card import write_model_card
from studio.assets.demo_tokenizer import END, train_bpe, wrap_for_transformers

SEED = 1234
THREADS = 2
VOCAB_SIZE = 8000
MAX_POSITIONS = 1024  # tokens


@dataclass(frozen=True)
class PretrainSettings:
    """How the from-scratch pre-training runs; the defaults are what the shipped model used."""

    steps: int = 500
    """optimizer steps; each sees batch_size * block_len tokens"""
    batch_size: int = 16
    """blocks per step"""
    block_len: int = 256
    """tokens per block; documents are concatenated with <s> ... </s> and cut into blocks"""
    peak_lr: float = 2e-3
    """AdamW learning rate after warmup; small models tolerate (and need) a high rate to learn in minutes"""
    warmup_fraction: float = 0.05
    """share of steps spent ramping the rate up linearly from 0"""
    min_lr_fraction: float = 0.1
    """the cosine decays to this share of peak_lr"""
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    heldout_fraction: float = 0.1
    """share of patent documents (every n-th one) kept out of training for the model card's validation loss"""


@dataclass
class PretrainResult:
    losses: list[float]
    heldout_loss: float
    seconds: float


def seed_everything(seed: int) -> None:
    """Same seed, same thread count, deterministic kernels: a rerun on the same machine gives the same bytes."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    # The tokenizers library trains in parallel; its merges are deterministic, but one thread keeps it simple.
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def flagged_ids(manifest: Path) -> set[str]:
    """Ids the samples manifest flags: noisy documents and the copies in exact or near-duplicate pairs.

    They are left out of pre-training. The model is the reference model for the studio's perplexity filter, so it
    must not have memorised the garbled documents it is meant to flag; and a copy of a held-out document in the
    training set would make the held-out loss meaningless. Empty without a manifest.
    """
    if not manifest.exists():
        return set()
    flags = json.loads(manifest.read_text(encoding="utf-8"))
    groups = ("noisy", "exact_duplicates", "near_duplicates")
    return {entry["id"] for group in groups for entry in flags.get(group, [])}


def read_patent_texts(path: Path, exclude: set[str]) -> list[str]:
    """The patent documents' texts in file order, without the excluded ids."""
    records = read_jsonl(path)
    return [r["text"] for r in records if r.get("text", "").strip() and r.get("id") not in exclude]


def read_intent_turns(path: Path) -> tuple[list[str], list[str], list[str]]:
    """System prompts, user utterances and assistant answers of the chat training file, each deduplicated in order."""
    by_role: dict[str, dict[str, None]] = {"system": {}, "user": {}, "assistant": {}}
    for record in read_jsonl(path):
        for message in record["messages"]:
            if message["role"] in by_role and message["content"].strip():
                by_role[message["role"]][message["content"]] = None
    return list(by_role["system"]), list(by_role["user"]), list(by_role["assistant"])


def intent_documents(utterances: list[str], answers: list[str], lines_per_doc: int = 16) -> list[str]:
    """Utterances and answers shuffled separately into line lists, so no utterance sits next to its answer.

    The base model learns what these tokens look like (Chinese requests, JSON objects) but not the mapping
    between them: that mapping is what the LoRA benchmark must teach.
    """
    rng = random.Random(SEED)
    shuffled_utterances, shuffled_answers = utterances[:], answers[:]
    rng.shuffle(shuffled_utterances)
    rng.shuffle(shuffled_answers)
    docs = []
    for lines in (shuffled_utterances, shuffled_answers):
        docs += ["\n".join(lines[i : i + lines_per_doc]) for i in range(0, len(lines), lines_per_doc)]
    return docs


def pack_blocks(tokenizer: PreTrainedTokenizerFast, docs: list[str], block_len: int) -> torch.Tensor:
    """`<s> doc </s>` for every document, concatenated and cut into [n_blocks, block_len] (the tail is dropped)."""
    stream: list[int] = []
    for doc in docs:
        # The tokenizer adds <s> itself; </s> marks where a document ends.
        stream += tokenizer(doc, verbose=False)["input_ids"] + [tokenizer.eos_token_id]
    n_blocks = len(stream) // block_len
    return torch.tensor(stream[: n_blocks * block_len], dtype=torch.long).view(n_blocks, block_len)


def demo_config(tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    """~5 M parameters: small enough for ≤ 25 MB in fp32 and minutes of CPU training, big enough to write Chinese."""
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=256,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=688,
        max_position_embeddings=MAX_POSITIONS,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        dtype="float32",
    )


def learning_rate(step: int, settings: PretrainSettings) -> float:
    """Linear warmup to peak_lr, then cosine down to min_lr_fraction * peak_lr at the last step."""
    warmup = max(1, int(settings.steps * settings.warmup_fraction))
    if step < warmup:
        return settings.peak_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, settings.steps - warmup)
    floor = settings.min_lr_fraction
    return settings.peak_lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(model: torch.nn.Module, settings: PretrainSettings) -> torch.optim.Optimizer:
    """AdamW; weight decay only on matrices (norm gains are left alone, as in most LLM recipes)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=settings.peak_lr, betas=(0.9, 0.95), eps=1e-8)


def document_pieces(tokenizer: PreTrainedTokenizerFast, docs: list[str], block_len: int) -> list[torch.Tensor]:
    """Each document as `<s> doc </s>` cut into pieces of at most block_len tokens, the tail kept (for evaluation)."""
    pieces = []
    for doc in docs:
        ids = torch.tensor(tokenizer(doc, verbose=False)["input_ids"] + [tokenizer.eos_token_id], dtype=torch.long)
        pieces += [piece for piece in ids.split(block_len) if len(piece) > 1]
    return pieces


@torch.no_grad()
def mean_loss(model: LlamaForCausalLM, pieces: list[torch.Tensor]) -> float:
    """Token-weighted mean next-token loss (nats/token) over the pieces."""
    model.eval()
    total, count = 0.0, 0
    for piece in pieces:
        n_predicted = len(piece) - 1
        total += model(input_ids=piece[None], labels=piece[None]).loss.item() * n_predicted
        count += n_predicted
    model.train()
    return total / max(1, count)


def pretrain(
    model: LlamaForCausalLM, train: torch.Tensor, heldout: list[torch.Tensor], settings: PretrainSettings
) -> PretrainResult:
    """Causal-LM loss on every token; batches drawn from a seeded permutation of the blocks, epoch after epoch."""
    optimizer = make_optimizer(model, settings)
    order = torch.Generator().manual_seed(SEED)
    queue: list[int] = []
    losses = []
    started = time.perf_counter()
    model.train()
    for step in range(settings.steps):
        if len(queue) < settings.batch_size:
            queue += torch.randperm(len(train), generator=order).tolist()
        batch = train[queue[: settings.batch_size]]
        del queue[: settings.batch_size]
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, settings)
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if step % 25 == 0 or step == settings.steps - 1:
            # The held-out loss shows when more steps stop helping (the corpus is small: many epochs).
            heldout_note = f"  held-out {mean_loss(model, heldout):.3f}" if step % 100 == 0 else ""
            print(f"step {step:4d}  loss {loss.item():.3f}  lr {learning_rate(step, settings):.2e}{heldout_note}",
                  flush=True)
    seconds = time.perf_counter() - started
    return PretrainResult(losses, mean_loss(model, heldout), seconds)


def split_patents(patents: list[str], settings: PretrainSettings) -> tuple[list[str], list[str]]:
    """Every n-th document is held out (at least one), so the split is fixed by file order alone."""
    every = max(2, round(1 / settings.heldout_fraction))
    heldout_ids = set(range(every - 1, len(patents), every)) or {len(patents) - 1}
    train = [doc for i, doc in enumerate(patents) if i not in heldout_ids]
    return train, [patents[i] for i in sorted(heldout_ids)]


def generation_config(tokenizer: PreTrainedTokenizerFast) -> GenerationConfig:
    """Greedy by default; generation stops at <|end|> (end of an assistant turn) or </s> (end of a document)."""
    return GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.convert_tokens_to_ids(END), tokenizer.eos_token_id],
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        max_new_tokens=256,
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out: Path, samples: Path, settings: PretrainSettings) -> dict:
    """The whole rebuild: tokenizer, model, pre-training, files. Returns the figures written into the model card."""
    started = time.perf_counter()
    seed_everything(SEED)
    left_out = flagged_ids(samples / "patents_manifest.json")
    patents = read_patent_texts(samples / "patents.jsonl", left_out)
    systems, utterances, answers = read_intent_turns(samples / "intent_chat.jsonl")
    bpe = train_bpe(patents + systems + utterances + answers, VOCAB_SIZE)
    tokenizer = wrap_for_transformers(bpe, MAX_POSITIONS)

    train_patents, heldout_patents = split_patents(patents, settings)
    train_docs = train_patents + intent_documents(utterances, answers)
    train_blocks = pack_blocks(tokenizer, train_docs, settings.block_len)
    heldout_pieces = document_pieces(tokenizer, heldout_patents, settings.block_len)
    print(f"{len(tokenizer)} tokens in vocab; {len(train_blocks)} train blocks; {len(heldout_patents)} held-out docs")

    torch.manual_seed(SEED)
    model = LlamaForCausalLM(demo_config(tokenizer))
    result = pretrain(model, train_blocks, heldout_pieces, settings)

    out.mkdir(parents=True, exist_ok=True)
    model.generation_config = generation_config(tokenizer)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    figures = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab": len(tokenizer),
        "train_tokens": train_blocks.numel(),
        "patent_docs": len(train_patents),
        "heldout_docs": len(heldout_patents),
        "flagged_docs_left_out": len(left_out),
        "intent_lines": len(utterances) + len(answers),
        "final_loss": sum(result.losses[-20:]) / len(result.losses[-20:]),
        "last_step_loss": result.losses[-1],
        "heldout_loss": result.heldout_loss,
        "train_seconds": result.seconds,
        "build_seconds": time.perf_counter() - started,
        "weights_sha256": sha256_of(out / "model.safetensors"),
        "torch": torch.__version__,
    }
    write_model_card(out, model.config, settings, figures)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEMO_MODEL_DIR, help="output folder (default: the bundled one)")
    parser.add_argument("--steps", type=int, default=PretrainSettings.steps, help="pre-training optimizer steps")
    parser.add_argument("--samples", type=Path, default=SAMPLES_DIR, help="folder with patents.jsonl etc.")
    args = parser.parse_args(argv)
    figures = build(args.out, args.samples, PretrainSettings(steps=args.steps))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
