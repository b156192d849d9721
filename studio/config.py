"""The recipe: one typed description of a fine-tuning run, shared by the UI, the CLI and the YAML files in recipes/.

Every default of the studio lives in this module and nowhere else. Each field carries its help text and its limits
in `param(...)` metadata, so the Configure tab can build its controls from the same table the validator reads.
Loading, saving and checking recipes is in `studio.recipe_io` and `studio.recipe_checks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, Optional

# Bundled assets are named with this scheme so that recipes work from any working directory and never look like
# a Hub id ("org/name") or a relative path.
BUNDLED_PREFIX = "bundled:"
DEMO_MODEL = "bundled:demo-model"
DEMO_DATASET = "bundled:intent_chat"

Method = Literal["lora", "qlora", "full"]
DType = Literal["auto", "float32", "bfloat16", "float16"]


def param(default: Any = None, help: str = "", *, ge: float | None = None, gt: float | None = None,
          le: float | None = None, lt: float | None = None, factory: Any = None) -> Any:
    """A dataclass field whose help text and numeric limits the validator and the UI both read."""
    meta = {"help": help, "ge": ge, "gt": gt, "le": le, "lt": lt}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class ModelConfig:
    """Which base model to fine-tune and how to load it."""

    name_or_path: str = param(DEMO_MODEL, "Hub id (org/name), a local model folder, or the bundled demo model.")
    revision: Optional[str] = param(None, "Hub branch, tag or commit; empty for the default branch.")
    trust_remote_code: bool = param(False, "Run Python code shipped with the model. Only for models you trust.")
    dtype: DType = param("auto", "Dtype of the weights in memory; auto picks bf16 on GPUs that support it.")
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2"] = param(
        "sdpa", "Attention kernel; flash_attention_2 needs the flash-attn package and a recent GPU.")
    rope_scaling: Literal["none", "linear", "dynamic", "yarn"] = param(
        "none", "RoPE scaling to train beyond the model's trained context length.")
    rope_factor: float = param(1.0, "RoPE scaling factor (new context / trained context).", ge=1.0, le=64.0)


@dataclass
class DataConfig:
    """The training data and how examples become token sequences."""

    dataset: str = param(DEMO_DATASET, "A data file, a workspace dataset (name@version) or a bundled sample.")
    format: Literal["auto", "text", "messages", "alpaca", "prompt_completion"] = param(
        "auto", "Record format; auto detects it from the fields.")
    template: str = param("auto", "Chat template: auto uses the tokenizer's own.")
    max_length: int = param(512, "Longest training sequence in tokens; longer examples are truncated.", ge=16,
                            le=1_048_576)
    packing: bool = param(False, "Pack several examples per sequence, kept apart by a block-diagonal mask.")
    eval_split: float = param(0.1, "Fraction of examples held out for eval loss (0 disables evaluation).",
                              ge=0.0, lt=0.5)
    mix_general_ratio: float = param(0.0, "Share of general data mixed in to limit forgetting.", ge=0.0, le=0.5)
    mix_general_dataset: Optional[str] = param(None, "The general data set to mix in.")


@dataclass
class LoraConfig:
    """Low-rank adapter shape; used by the lora and qlora methods."""

    r: int = param(16, "Rank of the update matrices.", ge=1, le=1024)
    alpha: float = param(16.0, "Scaling numerator: updates are scaled by alpha / r (alpha / sqrt(r) with rsLoRA).",
                         gt=0.0)
    dropout: float = param(0.05, "Dropout on the adapter input.", ge=0.0, lt=1.0)
    target_modules: list[str] = param(help="Layers that get adapters: all-linear, attention, or module names.",
                                      factory=lambda: ["all-linear"])
    use_rslora: bool = param(False, "Rank-stabilised scaling, alpha / sqrt(r); helps at high ranks.")
    use_dora: bool = param(False, "Weight-decomposed LoRA (DoRA): often better, slower per step.")


@dataclass
class QuantConfig:
    """How the frozen base weights are quantised for QLoRA (bitsandbytes)."""

    quant_type: Literal["nf4", "fp4"] = param("nf4", "4-bit data type; NF4 suits normally distributed weights.")
    double_quant: bool = param(True, "Quantise the quantisation constants too (saves ~0.4 bit per weight).")
    compute_dtype: DType = param("auto", "Dtype of the matmuls on dequantised weights.")


@dataclass
class OptimConfig:
    """Optimizer and its hyperparameters."""

    optimizer: Literal["adamw_torch", "adamw_8bit", "paged_adamw_8bit"] = param(
        "adamw_torch", "8-bit variants keep optimizer state in 8 bits (bitsandbytes).")
    # No tight upper limit: a diverging run is caught at run time by the NaN/inf alert, and the limit exists only
    # to catch a value that cannot be a learning rate at all.
    learning_rate: float = param(1e-4, "Peak learning rate (LoRA: 5e-5 to 2e-4 is usual, full: ~2e-5).", gt=0.0,
                                 le=1e4)
    weight_decay: float = param(0.01, "Decoupled weight decay.", ge=0.0, le=1.0)
    max_grad_norm: float = param(1.0, "Clip the gradient norm to this (0 disables clipping).", ge=0.0)
    adam_beta1: float = param(0.9, "AdamW beta1.", ge=0.0, lt=1.0)
    adam_beta2: float = param(0.999, "AdamW beta2.", ge=0.0, lt=1.0)
    adam_epsilon: float = param(1e-8, "AdamW epsilon.", gt=0.0, le=1e-3)


@dataclass
class ScheduleConfig:
    """Learning-rate schedule."""

    scheduler: Literal["cosine", "linear", "constant"] = param("cosine", "Shape of the decay after warmup.")
    warmup_ratio: float = param(0.03, "Warmup as a fraction of all optimizer steps.", ge=0.0, lt=1.0)
    warmup_steps: int = param(0, "Warmup in steps; when above 0 it replaces warmup_ratio.", ge=0)
    min_lr_ratio: float = param(0.1, "Cosine floor as a fraction of the peak learning rate.", ge=0.0, lt=1.0)


@dataclass
class BatchConfig:
    """Batching: effective batch = per-device batch × GPUs × accumulation steps."""

    per_device_batch_size: int = param(4, "Sequences per forward pass on each device.", ge=1, le=4096)
    gradient_accumulation_steps: int = param(4, "Forward passes summed before each optimizer step.", ge=1,
                                             le=4096)
    num_gpus: int = param(1, "Data-parallel processes (GPUs).", ge=1, le=1024)
    gradient_checkpointing: bool = param(False, "Recompute activations in the backward pass: less memory, "
                                                "about 30% slower.")


@dataclass
class DurationConfig:
    """How long to train."""

    epochs: float = param(3.0, "Passes over the training data.", gt=0.0, le=1000.0)
    max_steps: Optional[int] = param(None, "Optimizer steps; when set it overrides epochs.", ge=1)


@dataclass
class CheckpointConfig:
    """Logging, evaluation and checkpointing cadence (in optimizer steps)."""

    logging_steps: int = param(10, "Log training metrics every N steps.", ge=1)
    eval_steps: int = param(50, "Compute eval loss every N steps.", ge=1)
    save_steps: int = param(100, "Save a checkpoint every N steps.", ge=1)
    save_total_limit: int = param(3, "Keep the last N checkpoints.", ge=1)
    early_stopping_patience: int = param(0, "Stop after N evaluations without eval-loss improvement (0 = off).",
                                         ge=0)


@dataclass
class RuntimeConfig:
    """Where and how the run executes."""

    seed: int = param(42, "Seed for data order, initialisation and sampling.", ge=0)
    precision: Literal["auto", "bf16", "fp16", "fp32"] = param(
        "auto", "Mixed precision; auto picks bf16 where supported, else fp32 (CPU).")
    device: Literal["auto", "cpu", "cuda"] = param("auto", "auto uses the GPU when there is one.")
    dataloader_workers: int = param(0, "Worker processes that prepare batches.", ge=0, le=64)


@dataclass
class Recipe:
    """A complete, runnable fine-tuning recipe."""

    name: str = param("untitled", "Run name shown in the UI; letters, digits, '-', '_' and '.'.")
    description: str = param("", "What this recipe is for.")
    method: Method = param("lora", "lora: adapters on full-precision weights; qlora: adapters on 4-bit weights; "
                                   "full: train every weight.")
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    quant: QuantConfig = field(default_factory=QuantConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    duration: DurationConfig = field(default_factory=DurationConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)


# The nested sections of a recipe, by name, in declaration order.
SECTIONS: dict[str, Any] = {f.name: f.default_factory for f in fields(Recipe) if callable(f.default_factory)}

# Sections that only make sense for some methods; a recipe that sets them for another method is rejected
# rather than silently ignored, and saving leaves them out.
SECTION_METHODS: dict[str, tuple[str, ...]] = {"lora": ("lora", "qlora"), "quant": ("qlora",)}


def relevant_sections(method: str) -> list[str]:
    """Names of the sections a recipe with this method uses."""
    return [name for name in SECTIONS if method in SECTION_METHODS.get(name, (method,))]
