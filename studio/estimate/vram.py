"""Training-memory model: the peak GPU memory of one fine-tuning run, term by term, from the config alone.

Every term is physics, not a fit: bytes per parameter for weights, adapters, gradients and optimizer states, and the
tensors autograd saves per token per block for the backward pass. Modelling choices:

- Weights keep the model dtype (bf16 when precision is auto/bf16). Full fine-tuning is modelled as HF Trainer does it
  with a bf16-loaded model: bf16 autocast, no fp32 master copy, AdamW states in the parameter dtype. Set
  `master_weights=True` for classic mixed precision: 16-bit weights and grads + fp32 master + two fp32 states
  = 16 bytes/param (an fp32-loaded model under autocast costs the same: fp32 weights + its 16-bit weight cache).
- QLoRA: 4 bits per projection weight + absmax (fp32 per 64 weights; with double quant 8-bit per 64 + fp32 per
  64×256). Embeddings, lm_head, norms and biases stay unquantised; PEFT's prepare_model_for_kbit_training upcasts
  them to fp32 (`kbit_upcast`). bitsandbytes' 4-bit matmul saves its input for backward even for frozen weights.
- LoRA adapters are fp32 (PEFT's default upcast) unless `adapter_bytes=2` (litgpt/torchtune bf16-true).
- Activations: frozen linears save nothing; RMSNorm saves its fp32 upcast; SDPA/flash save q, k, v, output (O(L));
  eager also saves the fp32 softmax and its 16-bit copy (heads × L² per sequence); the SiLU-gated MLP saves three
  intermediates. With gradient checkpointing only each block's input is kept, plus one block recomputed.
- Peak, not sum: the loss and logits (16-bit logits, fp32 log-probs and their fp32 gradient) and the recomputed
  block do not coexist, so the forward/backward peak takes the larger of the two on top of the stored activations.
  Optimizer states exist from the first step on, so the steady-state peak includes them. The optimizer step itself
  (weights + gradients + states + foreach temporaries) is the other candidate; the peak is the larger.
- Outside PyTorch's allocator: the CUDA context (~0.5 GiB); inside it, fragmentation (`allocator_fraction`).
- On the CPU (`device="cpu"`) the same tensors live in the training process's RAM: no CUDA context, but the
  process's own libraries (Python, torch, transformers, PEFT: 0.52 GiB peak RSS measured for a worker that trained
  almost nothing), and precision auto is fp32, as the trainer runs it there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from studio.estimate.model_shape import ModelShape

GIB = 1024 ** 3  # bytes
CUDA_CONTEXT_GIB = 0.5  # driver + cuBLAS/cuDNN workspaces, not seen by torch.cuda.memory_allocated
# RSS of a CPU training worker before its tensors: measured 0.52 GiB peak for the demo model at batch 1 × 16 tokens
# (0.70 GiB at 8 × 256, estimated 0.72 with this figure).
CPU_PROCESS_GIB = 0.5
TIGHT_HEADROOM = 0.10  # less free memory than this fraction of the GPU is "tight"
_DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4, "auto": 2, "bfloat16": 2, "float16": 2, "float32": 4}


@dataclass(frozen=True)
class VramSettings:
    """Everything besides the model shape that decides training memory."""

    method: str = "lora"  # lora | qlora | full
    batch_size: int = 1  # sequences per forward pass per GPU
    max_length: int = 512  # tokens per sequence (padded length of the longest batch)
    grad_accum: int = 1  # micro-batches per optimizer step
    num_gpus: int = 1  # data-parallel replicas; each holds a full copy
    gradient_checkpointing: bool = False
    lora_r: int = 16
    lora_targets: Sequence[str] = ("all-linear",)
    lora_dropout: float = 0.05
    adapter_bytes: int = 4  # bytes per adapter element: 4 = PEFT fp32 adapters, 2 = bf16-true frameworks
    optimizer: str = "adamw_torch"  # adamw_torch | adamw_8bit | paged_adamw_8bit
    precision: str = "bf16"  # dtype of weights and activations: bf16 | fp16 | fp32
    master_weights: bool = False  # full fine-tuning with an fp32 master copy and fp32 Adam states
    quant_bits: int = 4  # bits per quantised base weight when method is qlora: 4 (NF4/FP4) or 8 (LLM.int8)
    double_quant: bool = True
    kbit_upcast: bool = True  # prepare_model_for_kbit_training: unquantised params to fp32
    attn_implementation: str = "sdpa"  # sdpa | flash_attention_2 | eager
    allocator_fraction: float = 0.05  # reserved-but-unused share of the allocator's pool
    # memory outside the allocator, GiB: the CUDA context on a GPU, the process's libraries on the CPU
    runtime_gib: float = CUDA_CONTEXT_GIB
    device: str = "cuda"  # cuda | cpu: where the run's memory is (GPU memory, or the process's RAM)


@dataclass
class VramEstimate:
    """Peak training memory per GPU, each term in GiB, and how the peak was combined."""

    weights_gib: float
    lora_gib: float
    gradients_gib: float
    optimizer_gib: float
    activations_gib: float  # stored activations + one block's recompute/working set
    logits_gib: float  # logits, fp32 log-probs and their gradient at the loss
    overhead_gib: float  # CUDA context (the process's libraries on the CPU) + allocator fragmentation
    total_gib: float  # the peak, as nvidia-smi would see it (on the CPU: the process's peak RSS)
    allocated_gib: float  # the peak torch.cuda.max_memory_allocated would report
    effective_batch: int
    peak_phase: str  # "backward" or "optimizer step"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def settings_from_recipe(recipe: Any, device: str = "cuda") -> VramSettings:
    """VramSettings from a studio.config.Recipe for a run on `device` (cuda or cpu); LoRA fields are ignored for
    full fine-tuning.

    An fp32-loaded model trained under bf16/fp16 autocast is modelled as 16-bit weights plus an fp32 master copy:
    the autocast weight cache holds a 16-bit copy of every weight during forward and backward.
    """
    precision = recipe.runtime.precision
    if precision == "auto" and device == "cpu":
        precision = "fp32"  # studio.train.builders.precision: auto trains in fp32 on the CPU
    elif precision == "auto":
        precision = {"float32": "fp32", "float16": "fp16"}.get(recipe.model.dtype, "bf16")
    master = recipe.method == "full" and recipe.model.dtype == "float32" and precision != "fp32"
    return VramSettings(
        method=recipe.method, batch_size=recipe.batch.per_device_batch_size, max_length=recipe.data.max_length,
        grad_accum=recipe.batch.gradient_accumulation_steps, num_gpus=recipe.batch.num_gpus,
        gradient_checkpointing=recipe.batch.gradient_checkpointing, lora_r=recipe.lora.r,
        lora_targets=tuple(recipe.lora.target_modules), lora_dropout=recipe.lora.dropout,
        optimizer=recipe.optim.optimizer, precision=precision, master_weights=master,
        double_quant=recipe.quant.double_quant, attn_implementation=recipe.model.attn_implementation,
        device=device, runtime_gib=CPU_PROCESS_GIB if device == "cpu" else CUDA_CONTEXT_GIB)


# ---------------------------------------------------------------- parameters (bytes)
def weight_bytes(shape: ModelShape, s: VramSettings) -> float:
    """Frozen or trained base weights in memory, bytes (fp32 master copy is counted with the optimizer)."""
    dtype = _DTYPE_BYTES[s.precision]
    if s.method != "qlora":
        return shape.total_params() * dtype
    if s.quant_bits == 4:
        # 4 bits + absmax: fp32 per 64 weights, or 8-bit per 64 + fp32 per 64*256 with double quantisation
        absmax = (1 / 64 + 4 / (64 * 256)) if s.double_quant else 4 / 64
        per_weight = 0.5 + absmax
    else:  # LLM.int8: 1 byte + an fp32 scale per output row (~negligible)
        per_weight = 1.0 + 4 / shape.hidden
    other = 4 if s.kbit_upcast else dtype
    return shape.linear_params() * per_weight + shape.other_params() * other


def trainable_params(shape: ModelShape, s: VramSettings) -> int:
    """Elements that receive gradients and optimizer states."""
    if s.method == "full":
        return shape.total_params()
    return shape.lora_params(s.lora_r, s.lora_targets)


def _trainable_dtype(s: VramSettings) -> int:
    """Bytes per trainable element and per gradient element (full fine-tuning: the model dtype, even with a master)."""
    if s.method == "full":
        return _DTYPE_BYTES[s.precision]
    return s.adapter_bytes


def _state_dtype(s: VramSettings) -> int:
    """Bytes per AdamW state element: torch keeps states in the parameter dtype (fp32 with a master copy)."""
    return 4 if (s.method == "full" and s.master_weights) else _trainable_dtype(s)


def optimizer_bytes(shape: ModelShape, s: VramSettings) -> float:
    """AdamW exp_avg + exp_avg_sq (+ fp32 master weights), bytes.

    torch AdamW keeps states in the parameter dtype; 8-bit Adam keeps 1 byte per state (2 per element);
    paged 8-bit is the same size but can spill to CPU memory under pressure.
    """
    n = trainable_params(shape, s)
    per_state = 1 if "8bit" in s.optimizer else _state_dtype(s)
    master = 4 * n if (s.method == "full" and s.master_weights) else 0
    return 2 * per_state * n + master


# ---------------------------------------------------------------- activations (bytes)
def _lora_saved_per_token(shape: ModelShape, s: VramSettings, inputs_saved: bool) -> float:
    """Bytes per token per block that LoRA adds: the adapter's own copy of each targeted input."""
    if s.method == "full":
        return 0.0
    act = _DTYPE_BYTES[s.precision]
    targets = shape.lora_targets(s.lora_targets)
    if s.lora_dropout > 0 or s.adapter_bytes != act:
        # each adapter gets its own input tensor: the dropout output, or under autocast the compute-dtype cast of
        # PEFT's upcast to the fp32 adapter dtype (act bytes), plus a 1-byte dropout mask
        mask = 1 if s.lora_dropout > 0 else 0
        return float(sum((act + mask) * i for i, _ in targets.values()))
    if inputs_saved:
        return 0.0
    # no dropout, same dtype: lora_A saves the shared block input once per distinct input tensor
    groups = {("attn_in" if n in ("q_proj", "k_proj", "v_proj", "qkv_proj") else
               "mlp_in" if n in ("gate_proj", "up_proj", "gate_up_proj") else n): i for n, (i, _) in targets.items()}
    return float(act * sum(groups.values()))


def block_activation_bytes(shape: ModelShape, s: VramSettings) -> float:
    """Bytes autograd keeps per token for one block when nothing is checkpointed (O(L) part only)."""
    act = _DTYPE_BYTES[s.precision]
    h, q, kv, i = shape.hidden, shape.q_dim, shape.kv_dim, shape.intermediate
    norms = 2 * 4 * h  # each RMSNorm saves its fp32 upcast of the input
    attention = act * (2 * q + 2 * kv)  # q, k (after RoPE), v, output; flash/SDPA logsumexp is negligible
    mlp = 3 * act * i  # gate output (SiLU input), SiLU output, up output
    linear_inputs = act * (h + q + h + i)  # inputs of qkv, o, gate/up, down
    inputs_saved = s.method in ("full", "qlora")
    total = norms + attention + mlp
    if s.method == "full":
        total += linear_inputs + 2 * act * h  # weight grads need the inputs; norm weights need their inputs
    elif inputs_saved:
        total += linear_inputs  # bitsandbytes k-bit matmul saves its input even for frozen weights
    return total + _lora_saved_per_token(shape, s, inputs_saved)


def eager_attention_bytes(shape: ModelShape, s: VramSettings) -> float:
    """Bytes per block of eager attention probabilities: fp32 softmax + 16-bit copy, batch × heads × L²."""
    if s.attn_implementation != "eager":
        return 0.0
    act = _DTYPE_BYTES[s.precision]
    return s.batch_size * shape.heads * s.max_length ** 2 * (4 + (act if act != 4 else 0))


def activation_terms(shape: ModelShape, s: VramSettings) -> tuple[float, float]:
    """(stored across all blocks, one block's recompute + working set), bytes."""
    act = _DTYPE_BYTES[s.precision]
    tokens = s.batch_size * s.max_length
    block = block_activation_bytes(shape, s) * tokens + eager_attention_bytes(shape, s)
    # gradients of one block's activations in flight during its backward: residual, attention and MLP widths
    working = act * tokens * (2 * shape.hidden + 2 * shape.intermediate)
    if s.method == "qlora":  # one projection dequantised to 16-bit at a time
        working += act * max(i * o for i, o in shape.linear_modules().values())
    if s.gradient_checkpointing:
        return act * shape.hidden * tokens * shape.layers, block + working
    return block * shape.layers, working


def logits_bytes(shape: ModelShape, s: VramSettings) -> float:
    """Bytes at the loss: logits (compute dtype), fp32 log-probs, their fp32 grad and its compute-dtype cast."""
    act = _DTYPE_BYTES[s.precision]
    per = 4 + 4 + (2 * act if act != 4 else 0)
    return s.batch_size * s.max_length * shape.vocab * per


# ---------------------------------------------------------------- the estimate
def estimate_vram(shape: ModelShape, s: VramSettings) -> VramEstimate:
    """Peak memory per GPU for training `shape` with settings `s`; every term in GiB."""
    weights = weight_bytes(shape, s)
    n_train = trainable_params(shape, s)
    adapters = 0.0 if s.method == "full" else n_train * s.adapter_bytes
    grads = n_train * _trainable_dtype(s)
    optim = optimizer_bytes(shape, s)
    stored, layer_work = activation_terms(shape, s)
    logits = logits_bytes(shape, s)
    static = weights + adapters + optim
    # gradients of full fine-tuning fill in as activations free; with accumulation they persist across micro-batches
    grads_live = grads if (s.method != "full" or s.grad_accum > 1) else 0.0
    backward = static + grads_live + stored + max(logits, layer_work)
    backward = max(backward, static + grads + layer_work)
    step_temp = 0.0 if "8bit" in s.optimizer else n_train * _state_dtype(s)  # foreach AdamW temporaries
    step = static + grads + step_temp
    allocated = max(backward, step)
    overhead = allocated * s.allocator_fraction + s.runtime_gib * GIB
    notes = _notes(shape, s)
    return VramEstimate(
        weights_gib=weights / GIB, lora_gib=adapters / GIB, gradients_gib=grads / GIB, optimizer_gib=optim / GIB,
        activations_gib=(stored + layer_work) / GIB, logits_gib=logits / GIB, overhead_gib=overhead / GIB,
        total_gib=(allocated + overhead) / GIB, allocated_gib=allocated / GIB,
        effective_batch=s.batch_size * s.grad_accum * s.num_gpus,
        peak_phase="backward" if backward >= step else "optimizer step", notes=notes)


def _notes(shape: ModelShape, s: VramSettings) -> list[str]:
    notes = []
    if s.optimizer.startswith("paged"):
        notes.append("paged optimizer: states can spill to CPU memory, so the real peak may be lower")
    if s.max_length > shape.max_positions:
        notes.append(f"max length {s.max_length} exceeds the model's trained context {shape.max_positions}")
    if s.method == "full" and not s.master_weights and s.precision != "fp32":
        notes.append("full fine-tuning modelled as pure 16-bit weights and states (no fp32 master copy)")
    return notes


# ---------------------------------------------------------------- what fits
def verdict(estimate: VramEstimate, gpu_gib: float) -> str:
    """'fits', 'tight' (under 10% of the GPU left free) or "won't fit"."""
    if estimate.total_gib > gpu_gib:
        return "won't fit"
    return "tight" if gpu_gib - estimate.total_gib < TIGHT_HEADROOM * gpu_gib else "fits"


def _largest(shape: ModelShape, s: VramSettings, gpu_gib: float, name: str, upper: int) -> int:
    """Largest value of integer setting `name` in [1, upper] whose estimate fits; 0 when even 1 does not."""
    fits = lambda v: estimate_vram(shape, replace(s, **{name: v})).total_gib <= gpu_gib
    if not fits(1):
        return 0
    lo, hi = 1, upper
    while lo < hi:  # totals grow monotonically with batch and length, so bisect
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def largest_batch_that_fits(shape: ModelShape, s: VramSettings, gpu_gib: float, upper: int = 4096) -> int:
    """Largest per-device micro-batch (sequences) that fits in `gpu_gib`; 0 if none."""
    return _largest(shape, s, gpu_gib, "batch_size", upper)


def longest_length_that_fits(shape: ModelShape, s: VramSettings, gpu_gib: float, upper: int = 1 << 20) -> int:
    """Longest max length (tokens) that fits in `gpu_gib` at this batch size; 0 if none."""
    return _largest(shape, s, gpu_gib, "max_length", upper)


@dataclass(frozen=True)
class Advice:
    """One change to the settings and what it would save, in GiB of peak memory."""

    action: str
    saving_gib: float
    settings: VramSettings


def _candidate_changes(shape: ModelShape, s: VramSettings) -> list[tuple[str, VramSettings]]:
    out: list[tuple[str, VramSettings]] = []
    if not s.gradient_checkpointing:
        out.append(("turn on gradient checkpointing (~30% slower)", replace(s, gradient_checkpointing=True)))
    if s.method == "full":
        out.append(("use LoRA instead of full fine-tuning", replace(s, method="lora")))
    if s.method in ("full", "lora"):
        out.append(("use QLoRA (4-bit NF4 base weights)", replace(s, method="qlora", double_quant=True)))
    if s.batch_size > 1:
        b = max(1, s.batch_size // 2)
        accum = s.grad_accum * s.batch_size // b
        out.append((f"micro-batch {b} with {accum} accumulation steps (same effective batch)",
                    replace(s, batch_size=b, grad_accum=accum)))
    if s.max_length > 256:
        out.append((f"shorter max length ({s.max_length // 2} tokens)", replace(s, max_length=s.max_length // 2)))
    if s.optimizer == "adamw_torch":  # paged optimizers page GPU memory: no use on the CPU
        out.append(("8-bit AdamW (adamw_8bit)" if s.device == "cpu" else
                    "8-bit AdamW (adamw_8bit or paged_adamw_8bit)", replace(s, optimizer="adamw_8bit")))
    if s.method != "full" and list(s.lora_targets) != ["attention"]:
        out.append(("LoRA on attention projections only", replace(s, lora_targets=("attention",))))
    if s.attn_implementation == "eager":
        out.append(("SDPA attention instead of eager", replace(s, attn_implementation="sdpa")))
    return out


def advise(shape: ModelShape, s: VramSettings) -> list[Advice]:
    """Changes that lower the peak, largest saving first; each saving comes from re-running the estimate."""
    base = estimate_vram(shape, s).total_gib
    ranked = []
    for action, changed in _candidate_changes(shape, s):
        saving = base - estimate_vram(shape, changed).total_gib
        if saving > 0.005:
            ranked.append(Advice(action, saving, changed))
    return sorted(ranked, key=lambda a: -a.saving_gib)
