"""A recipe on several GPUs of one machine: the accelerate config file and the command that launches the worker.

Pure text from a `Recipe`, the number of GPUs and a strategy; nothing is launched and no weights are read. The
worker itself (`python -m studio train`) is the same on one GPU or many: `accelerate launch` starts one copy per
GPU, every copy trains on its shard of each batch, and rank 0 writes the run folder (see `studio.train.worker`).

Strategies, from least to most memory saved per GPU:
- ddp: every GPU holds the whole model; gradients are averaged (the default for LoRA/QLoRA: adapters are small);
- deepspeed-zero2: optimizer state and gradients are sharded across GPUs (weights are not);
- fsdp-shard-grad-op: everything sharded at rest, but the weights stay gathered from each forward to its backward;
- deepspeed-zero3 and fsdp (full shard): the weights are sharded all the time, for models that do not fit one GPU.

What the config carries from the recipe: mixed precision (runtime.precision; auto is taken as bf16), gradient
accumulation and clipping (DeepSpeed refuses values that differ from the Trainer's, so both come from the
recipe), and for FSDP the decoder-layer class to wrap, read from the model's config.json (`architectures`, or the
model type through the offline catalogue). Effective batch = micro-batch × accumulation × GPUs.
"""

from __future__ import annotations

import importlib.util
import shlex
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from studio.config import Recipe
from studio.estimate.schedule import effective_batch

STRATEGIES: dict[str, str] = {
    "ddp": "DDP: a whole copy of the model per GPU, gradients averaged",
    "deepspeed-zero2": "DeepSpeed ZeRO-2: optimizer state and gradients sharded",
    "deepspeed-zero3": "DeepSpeed ZeRO-3: weights, gradients and optimizer state sharded",
    "fsdp": "FSDP full shard: weights, gradients and optimizer state sharded (like ZeRO-3)",
    "fsdp-shard-grad-op": "FSDP shard-grad-op: like full shard, weights kept gathered from forward to backward",
}
SHARDS_WEIGHTS = ("deepspeed-zero3", "fsdp", "fsdp-shard-grad-op")
MAX_GPUS = 16  # one machine; more GPUs means several machines, which `accelerate config` sets up
PRECISION = {"auto": "bf16", "bf16": "bf16", "fp16": "fp16", "fp32": "no"}
# Causal-LM classes whose decoder block is not named <Prefix>DecoderLayer (from their _no_split_modules).
_LAYER_EXCEPTIONS = {"GPT2LMHeadModel": "GPT2Block", "GPTNeoXForCausalLM": "GPTNeoXLayer",
                     "GPTJForCausalLM": "GPTJBlock", "BloomForCausalLM": "BloomBlock"}


class ScaleOutError(ValueError):
    """This recipe cannot be launched this way; the message says why and what to change."""


@dataclass(frozen=True)
class LaunchPlan:
    strategy: str
    num_gpus: int
    effective_batch: int  # sequences per optimizer step over all GPUs
    config: dict[str, Any]  # the accelerate config; empty when one process needs none
    config_yaml: str
    command: str
    notes: list[str] = field(default_factory=list)


def layer_class_from_config(config: dict[str, Any]) -> str | None:
    """The decoder-layer class FSDP wraps, e.g. LlamaDecoderLayer, from a model's config.json dict."""
    architectures = config.get("architectures") or []
    arch = architectures[0] if architectures else _causal_lm_class(config.get("model_type"))
    if not arch:
        return None
    if arch in _LAYER_EXCEPTIONS:
        return _LAYER_EXCEPTIONS[arch]
    for suffix in ("ForCausalLM", "LMHeadModel"):
        if arch.endswith(suffix):
            return arch[: -len(suffix)] + "DecoderLayer"
    return None


def _causal_lm_class(model_type: str | None) -> str | None:
    """transformers' causal-LM class name for a model type (the catalogue's configs carry no `architectures`)."""
    if not model_type:
        return None
    try:
        from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    except ImportError:
        return None
    return MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(model_type)


@lru_cache(maxsize=64)
def layer_class(model_reference: str) -> str | None:
    """`layer_class_from_config` for a recipe's model reference; None when its config.json is out of reach."""
    from studio.estimate.catalogue import load_model_config

    try:
        return layer_class_from_config(load_model_config(model_reference))
    except (ValueError, FileNotFoundError, OSError):
        return None


def check_strategy(recipe: Recipe, num_gpus: int, strategy: str) -> None:
    """Refuse combinations that cannot work, naming the setting to change."""
    if strategy not in STRATEGIES:
        raise ScaleOutError(f"unknown strategy {strategy!r}; pick one of {', '.join(STRATEGIES)}")
    if not 1 <= num_gpus <= MAX_GPUS:
        raise ScaleOutError(f"{num_gpus} GPUs: one machine takes 1 to {MAX_GPUS}; for several machines run "
                            "`accelerate config` on each and launch the same command there")
    if recipe.runtime.device == "cpu" and (num_gpus > 1 or strategy != "ddp"):
        raise ScaleOutError("runtime.device is cpu: set it to auto or cuda to train on GPUs")
    if recipe.method == "qlora" and strategy in SHARDS_WEIGHTS:
        raise ScaleOutError(
            f"QLoRA with {strategy}: sharding 4-bit weights needs them stored in the training dtype "
            "(bnb_4bit_quant_storage equal to the model dtype, which the studio sets) and loaded without a device "
            "map, while the worker places each rank's 4-bit model on its own GPU. Use ddp or deepspeed-zero2 "
            "for QLoRA (each GPU holds the whole 4-bit model), or method lora with weight sharding.")


def mixed_precision(recipe: Recipe) -> str:
    return PRECISION[recipe.runtime.precision]


def accelerate_config(recipe: Recipe, num_gpus: int, strategy: str) -> dict[str, Any]:
    """The accelerate config (the dict `accelerate config` would write) for one machine with `num_gpus` GPUs."""
    check_strategy(recipe, num_gpus, strategy)
    kind = {"ddp": "MULTI_GPU" if num_gpus > 1 else "NO", "deepspeed-zero2": "DEEPSPEED",
            "deepspeed-zero3": "DEEPSPEED"}.get(strategy, "FSDP")
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE", "debug": False, "distributed_type": kind,
        "downcast_bf16": "no", "gpu_ids": "all", "machine_rank": 0, "main_training_function": "main",
        "mixed_precision": mixed_precision(recipe), "num_machines": 1, "num_processes": num_gpus,
        "rdzv_backend": "static", "same_network": True, "use_cpu": False,
    }
    if kind == "DEEPSPEED":
        config["deepspeed_config"] = _deepspeed_section(recipe, stage=3 if strategy == "deepspeed-zero3" else 2)
    elif kind == "FSDP":
        config["fsdp_config"] = _fsdp_section(recipe, full_shard=strategy == "fsdp")
    return config


def _deepspeed_section(recipe: Recipe, stage: int) -> dict[str, Any]:
    section: dict[str, Any] = {
        "zero_stage": stage,
        # DeepSpeed checks these against the Trainer's arguments, which the worker builds from the same recipe.
        "gradient_accumulation_steps": recipe.batch.gradient_accumulation_steps,
        "gradient_clipping": recipe.optim.max_grad_norm,
        "offload_optimizer_device": "none",
    }
    if stage == 3:
        section.update(offload_param_device="none",
                       zero3_init_flag=True,  # from_pretrained loads each weight straight into its shard
                       zero3_save_16bit_model=True)  # gather 16-bit weights on save: the adapter is loadable
    return section


def _fsdp_section(recipe: Recipe, full_shard: bool) -> dict[str, Any]:
    section: dict[str, Any] = {"fsdp_version": 2, "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP"}
    cls = layer_class(recipe.model.name_or_path)
    if cls:
        section["fsdp_transformer_layer_cls_to_wrap"] = cls
    section.update(
        fsdp_reshard_after_forward=full_shard,  # True: FULL_SHARD; False: SHARD_GRAD_OP
        fsdp_offload_params=False,
        # Checkpoints and the final adapter as whole files: the studio's resume check and PEFT can read them.
        fsdp_state_dict_type="FULL_STATE_DICT",
        fsdp_cpu_ram_efficient_loading=False,  # the worker loads the model before the process group exists
        fsdp_activation_checkpointing=False,  # the recipe's gradient checkpointing is the Trainer's, not FSDP's
    )
    return section


def launch_command(num_gpus: int, strategy: str, recipe_path: str, config_path: str, workspace: str) -> str:
    """The shell command; one process with DDP needs no launcher. Each launch makes a new run folder in the
    workspace's runs/ (rank 0 makes it and tells the others, see `studio.train.train_command`), so the run shows in
    the Train tab like one started there."""
    where = f"--workspace {shlex.quote(workspace)}"
    if num_gpus == 1 and strategy == "ddp":
        return f"python -m studio train {shlex.quote(recipe_path)} {where}"
    return (f"accelerate launch --config_file {shlex.quote(config_path)} -m studio train "
            f"{shlex.quote(recipe_path)} {where}")


def config_yaml(config: dict[str, Any], header: list[str]) -> str:
    import yaml

    comments = "".join(f"# {line}\n" for line in header)
    return comments + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def plan_launch(recipe: Recipe, strategy: str, recipe_path: str, config_path: str, workspace: str,
                num_gpus: int | None = None) -> LaunchPlan:
    """Config, command, effective batch and caveats for `num_gpus` (default: the recipe's batch.num_gpus)."""
    gpus = recipe.batch.num_gpus if num_gpus is None else num_gpus
    config = accelerate_config(recipe, gpus, strategy)
    b = recipe.batch
    batch = effective_batch(replace(recipe, batch=replace(b, num_gpus=gpus)))
    command = launch_command(gpus, strategy, recipe_path, config_path, workspace)
    figure = (f"effective batch {b.per_device_batch_size} per GPU × {b.gradient_accumulation_steps} accumulation × "
              f"{gpus} GPU{'s' if gpus > 1 else ''} = {batch} sequences per optimizer step")
    text = config_yaml(config, [f"accelerate config for recipe {recipe.name}: {STRATEGIES[strategy]}, {gpus} "
                                f"GPU{'s' if gpus > 1 else ''} on one machine (written by Fine-Tune Studio)",
                                figure, command])
    return LaunchPlan(strategy, gpus, batch, config, text, command, _notes(recipe, gpus, strategy, config))


def _notes(recipe: Recipe, gpus: int, strategy: str, config: dict[str, Any]) -> list[str]:
    notes = []
    if gpus != recipe.batch.num_gpus:
        notes.append(f"The recipe says batch.num_gpus {recipe.batch.num_gpus}; set it to {gpus} so the step "
                     "counts and the memory estimate match this launch.")
    if recipe.runtime.precision == "auto":
        notes.append("Precision auto is written as bf16 (Ampere or newer GPUs); set runtime.precision to fp16 "
                     "for older GPUs.")
    if strategy.startswith("deepspeed") and importlib.util.find_spec("deepspeed") is None:
        notes.append("DeepSpeed is not installed here: run `pip install deepspeed` on the training machine.")
    if strategy.startswith("fsdp"):
        if "fsdp_transformer_layer_cls_to_wrap" not in config["fsdp_config"]:
            notes.append("The model's config.json is out of reach offline, so FSDP wraps the layers the model "
                         "lists in _no_split_modules when it loads.")
        notes.append("Each process reads the whole base model into CPU memory before it is sharded.")
    if gpus > 1:
        notes.append("Ctrl+C stops every process at the same step with a checkpoint and the adapter; the launcher "
                     "allows 30 s before killing them (set TORCH_ELASTIC_SHUTDOWN_TIMEOUT=SECONDS for more). "
                     "To resume, add --run-dir RUN_FOLDER --resume latest to the command.")
    return notes
