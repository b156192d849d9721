"""Adapters for the chat tests: real PEFT LoRA folders on the tiny model, with random non-zero weights (PEFT
initialises lora_B to zero, which would make every adapter equal the base and the exactness tests vacuous)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.config import ModelConfig


def make_adapter(base_dir: Path, out: Path, targets: list[str], seed: int, std: float = 0.3) -> Path:
    """A LoRA adapter of the model in `base_dir`, saved to `out` the way training saves one."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_dir)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=targets, task_type="CAUSAL_LM"))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * std)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """The tiny model's matmuls are too small to share out; on a busy machine the idle threads' spinning doubled
    this package's time. Restored after, for the rest of the suite."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def adapter_dirs(tiny_model_dir, tmp_path_factory) -> dict[str, Path]:
    """Two adapters of the tiny model with different targets: A on attention, B on every linear layer."""
    root = tmp_path_factory.mktemp("adapters")
    return {
        "A": make_adapter(tiny_model_dir, root / "A", ["q_proj", "v_proj"], seed=1),
        "B": make_adapter(tiny_model_dir, root / "B", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                       "up_proj", "down_proj"], seed=2),
    }


def engine_with(model_dir: Path, adapters: dict[str, Path]):
    """A chat engine on the tiny model (fp32) with these adapters loaded, in order."""
    from studio.chat import ChatEngine

    engine = ChatEngine(ModelConfig(name_or_path=str(model_dir), dtype="float32"))
    for name, folder in adapters.items():
        engine.add_adapter(name, folder)
    return engine


@pytest.fixture
def tiny_config(tiny_model_dir) -> ModelConfig:
    return ModelConfig(name_or_path=str(tiny_model_dir), dtype="float32")
