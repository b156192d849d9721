"""Benchmark: process memory of the chat engine — the base alone, the base with 3 LoRA adapters in one engine, and
two full copies of the model (what a pane per model would cost).

    python benchmarks/chat_memory.py [--hidden 1024] [--layers 8] [--rank 16] [--adapters 3] [--tokens 16]
                                     [--with-4bit]

The bundled demo model is 15 MB, smaller than the Python/torch process itself, so the script writes a local Llama
with random weights to a temporary folder (hidden 1024 and 8 layers: ~107M parameters, ~406 MiB in fp32, with the
demo tokenizer) and LoRA adapters of rank `--rank` on every linear layer with random non-zero weights. Nothing is
downloaded.

Each case runs in a fresh subprocess, so every measurement starts clean; it loads, generates `--tokens` greedy
tokens with every model it holds (so runtime buffers count too), then reads VmRSS (RssAnon + RssFile) and VmHWM
(the peak) from /proc/self/status. "empty" is a process that imports torch, transformers, PEFT and the engine and
loads nothing: the baseline. Ratios are printed two ways: raw RSS, and RSS minus the empty process (the memory the
models cost). The target — base + 3 adapters ≤ 1.1× the base alone — is judged on the second, the stricter one:
the raw ratio is diluted by the ~400 MiB every torch process pays.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 1.1  # base + 3 adapters over the base alone, RSS minus the empty process (issue #7)
MESSAGES = [{"role": "user", "content": "明天6点叫醒我"}]
CASES = {  # name: what the table calls it
    "empty": "empty process (imports only)",
    "base": "base alone (one engine)",
    "adapters": "base + {n} adapters (one engine)",
    "copies": "two full copies (base + merged adapter)",
    "base-4bit": "base alone, 4-bit NF4",
    "adapters-4bit": "base + {n} adapters, 4-bit NF4",
}


def memory_mib() -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM of this process in MiB (Linux /proc)."""
    wanted = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            out[wanted[key]] = int(value.split()[0]) / 1024  # the file says kB
    return out


def build_model(folder: Path, hidden: int, layers: int) -> int:
    """A random-weight Llama with the demo tokenizer, saved as a local model folder; returns its parameter count."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from studio.assets import DEMO_MODEL_DIR

    tokenizer = AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)
    config = LlamaConfig(hidden_size=hidden, intermediate_size=hidden * 11 // 4, num_hidden_layers=layers,
                         num_attention_heads=hidden // 64, num_key_value_heads=hidden // 64,
                         vocab_size=len(tokenizer), max_position_embeddings=2048, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def build_adapters(model_dir: Path, root: Path, count: int, rank: int) -> tuple[list[Path], int]:
    """`count` LoRA adapters on every linear layer with random weights; returns their folders and parameters each."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folders, params = [], 0
    for i in range(count):
        base = AutoModelForCausalLM.from_pretrained(model_dir)
        model = get_peft_model(base, LoraConfig(r=rank, lora_alpha=rank, target_modules="all-linear",
                                                task_type="CAUSAL_LM"))
        torch.manual_seed(i + 1)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "lora_" in name:
                    param.normal_(0, 0.02)
        params = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
        folders.append(root / f"adapter-{i + 1}")
        model.save_pretrained(folders[-1])
    return folders, params


def measure(case: str, model_dir: str, adapter_dirs: list[str], tokens: int) -> dict:
    """Run one case in this (fresh) process and return its memory; called through `--measure`."""
    import torch  # noqa: F401 — the empty case is exactly these imports
    import transformers  # noqa: F401
    from peft import PeftModel

    from studio.chat.engine import ChatEngine, GenerationSettings
    from studio.config import ModelConfig
    from studio.models import load_model

    cfg = ModelConfig(name_or_path=model_dir, dtype="float32")
    settings = GenerationSettings(max_new_tokens=tokens)
    started = time.perf_counter()
    if case != "empty":
        engine = ChatEngine(cfg, load_in_4bit=case.endswith("4bit"), device="cpu")
        if case.startswith("adapters"):
            for i, folder in enumerate(adapter_dirs):
                engine.add_adapter(f"a{i + 1}", folder)
        for name in engine.names:
            engine.generate(name, MESSAGES, settings)
        if case == "copies":
            merged = PeftModel.from_pretrained(load_model(cfg, device_map="cpu"), adapter_dirs[0]).merge_and_unload()
            prompt = engine.tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
            ids = engine.tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            with torch.no_grad():
                merged.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=tokens, do_sample=False)
    import gc

    gc.collect()
    return {**memory_mib(), "seconds": time.perf_counter() - started}


def run_case(case: str, model_dir: Path, adapter_dirs: list[Path], tokens: int) -> dict:
    command = [sys.executable, __file__, "--measure", case, "--model-dir", str(model_dir), "--tokens", str(tokens),
               "--adapter-dirs", *map(str, adapter_dirs)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: dict[str, dict], n_adapters: int) -> None:
    empty, base = results["empty"], results["base"]
    print(f"\n{'case':42}{'RSS MiB':>9}{'anon':>8}{'file':>7}{'peak':>8}{'RSS/base':>10}{'(RSS-empty)/(base-empty)':>26}")
    for case, row in results.items():
        paired = results["base-4bit"] if case.endswith("4bit") else base  # 4-bit rows compare with the 4-bit base
        raw = row["rss"] / paired["rss"]
        net = (row["rss"] - empty["rss"]) / (paired["rss"] - empty["rss"]) if case != "empty" else float("nan")
        label = CASES[case].format(n=n_adapters)
        print(f"{label:42}{row['rss']:>9.0f}{row['anon']:>8.0f}{row['file']:>7.0f}{row['peak']:>8.0f}{raw:>10.3f}"
              f"{'-' if case == 'empty' else f'{net:.3f}':>26}")
    net = (results["adapters"]["rss"] - empty["rss"]) / (base["rss"] - empty["rss"])
    raw = results["adapters"]["rss"] / base["rss"]
    print(f"\nbase + {n_adapters} adapters vs base alone: {net:.3f}x of the models' memory (RSS minus the empty "
          f"process), {raw:.3f}x raw RSS; two full copies: "
          f"{(results['copies']['rss'] - empty['rss']) / (base['rss'] - empty['rss']):.2f}x / "
          f"{results['copies']['rss'] / base['rss']:.2f}x")
    print(f"target (base + {n_adapters} adapters <= {TARGET}x base alone, on RSS minus the empty process): "
          f"{'met' if net <= TARGET else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=1024, help="hidden size of the generated Llama (default 1024)")
    parser.add_argument("--layers", type=int, default=8, help="decoder layers (default 8)")
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank of each adapter (default 16)")
    parser.add_argument("--adapters", type=int, default=3, help="adapters loaded together (default 3)")
    parser.add_argument("--tokens", type=int, default=16, help="greedy tokens generated per model (default 16)")
    parser.add_argument("--with-4bit", action="store_true", help="also measure the engine with 4-bit NF4 weights")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: run one case in this process
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--adapter-dirs", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.model_dir, args.adapter_dirs, args.tokens)))
        return
    with tempfile.TemporaryDirectory(prefix="chat-memory-") as tmp:
        root = Path(tmp)
        params = build_model(root / "model", args.hidden, args.layers)
        adapter_dirs, lora_params = build_adapters(root / "model", root, args.adapters, args.rank)
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"model: random Llama, {params / 1e6:.1f}M parameters (hidden {args.hidden}, {args.layers} layers), "
              f"{params * 4 / 2**20:.0f} MiB in fp32, on the CPU; adapters: {args.adapters} x LoRA r={args.rank} "
              f"on every linear layer, {lora_params / 1e6:.2f}M parameters ({lora_params * 4 / 2**20:.1f} MiB) "
              f"each; {os.cpu_count()} cores, load average {load}")
        cases = ["empty", "base", "adapters", "copies"] + (["base-4bit", "adapters-4bit"] if args.with_4bit else [])
        results = {case: run_case(case, root / "model", adapter_dirs, args.tokens) for case in cases}
        report(results, args.adapters)


if __name__ == "__main__":
    main()
