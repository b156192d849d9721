"""The architecture numbers of a decoder-only transformer, read from its `config.json`, and what follows from them.

`ModelShape` holds only what the memory model needs: widths, depths, head layout, vocabulary. Parameter counts per
part (embeddings, attention q/k/v/o, MLP gate/up/down, norms, lm_head) and the linear modules LoRA would target are
computed from the shape, never from weights. Llama-style blocks are assumed (RMSNorm, gated SiLU MLP, RoPE); Qwen2's
q/k/v biases, Qwen3's per-head q/k norms, Gemma-2's four norms per block and Phi-3's fused projections are counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Module names of the attention and MLP projections in one block (Hugging Face Llama naming).
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP_MODULES = ("gate_proj", "up_proj", "down_proj")
# Phi-3 fuses q/k/v into qkv_proj and gate/up into gate_up_proj.
FUSED_ATTENTION_MODULES = ("qkv_proj", "o_proj")
FUSED_MLP_MODULES = ("gate_up_proj", "down_proj")


@dataclass(frozen=True)
class ModelShape:
    """Architecture numbers of a decoder-only model (all sizes in elements, not bytes)."""

    hidden: int  # model width d
    layers: int  # transformer blocks
    heads: int  # query heads
    kv_heads: int  # key/value heads (GQA when fewer than heads)
    head_dim: int  # width of one head
    intermediate: int  # MLP inner width
    vocab: int  # vocabulary size (rows of the embedding and of lm_head)
    tied_embeddings: bool  # lm_head shares the embedding matrix
    max_positions: int  # trained context length in tokens
    model_type: str = "llama"

    @property
    def q_dim(self) -> int:
        """Width of the concatenated query heads (may differ from hidden, e.g. Gemma-2, Qwen3)."""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of the concatenated key (or value) heads."""
        return self.kv_heads * self.head_dim

    @property
    def fused(self) -> bool:
        """Phi-3 style fused qkv_proj and gate_up_proj."""
        return self.model_type == "phi3"

    # ---- parameter counts (elements) ----
    def embedding_params(self) -> int:
        return self.vocab * self.hidden

    def lm_head_params(self) -> int:
        """0 when tied: the embedding matrix is reused and stored once."""
        return 0 if self.tied_embeddings else self.vocab * self.hidden

    def attention_params(self) -> dict[str, int]:
        """Per block: weight elements of q, k, v, o (biases are in `bias_params`)."""
        h = self.hidden
        return {"q_proj": h * self.q_dim, "k_proj": h * self.kv_dim, "v_proj": h * self.kv_dim,
                "o_proj": self.q_dim * h}

    def mlp_params(self) -> dict[str, int]:
        """Per block: weight elements of gate, up, down."""
        n = self.hidden * self.intermediate
        return {"gate_proj": n, "up_proj": n, "down_proj": n}

    def bias_params(self) -> int:
        """Per block: Qwen2 has biases on q, k, v; the others have none."""
        return self.q_dim + 2 * self.kv_dim if self.model_type == "qwen2" else 0

    def norm_params(self) -> int:
        """Per block RMSNorm weights (2, Gemma-2: 4, Qwen3 adds per-head q/k norms)."""
        n = (4 if self.model_type.startswith("gemma2") else 2) * self.hidden
        if self.model_type.startswith("qwen3"):
            n += 2 * self.head_dim
        return n

    def block_linear_params(self) -> int:
        """Per block: elements of all projection weights (what 4-bit/8-bit quantisation replaces)."""
        return sum(self.attention_params().values()) + sum(self.mlp_params().values())

    def linear_params(self) -> int:
        """All blocks: projection weights (quantisable)."""
        return self.layers * self.block_linear_params()

    def other_params(self) -> int:
        """Parameters kept unquantised: embeddings, lm_head, norms (incl. the final norm), biases."""
        return (self.embedding_params() + self.lm_head_params() + self.hidden
                + self.layers * (self.norm_params() + self.bias_params()))

    def total_params(self) -> int:
        """All parameters, tied embeddings counted once."""
        return self.linear_params() + self.other_params()

    # ---- LoRA targets ----
    def linear_modules(self) -> dict[str, tuple[int, int]]:
        """Per block: projection name -> (in_features, out_features)."""
        h, i = self.hidden, self.intermediate
        if self.fused:
            return {"qkv_proj": (h, self.q_dim + 2 * self.kv_dim), "o_proj": (self.q_dim, h),
                    "gate_up_proj": (h, 2 * i), "down_proj": (i, h)}
        return {"q_proj": (h, self.q_dim), "k_proj": (h, self.kv_dim), "v_proj": (h, self.kv_dim),
                "o_proj": (self.q_dim, h), "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}

    def lora_targets(self, targets: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Per block: the modules LoRA wraps for `targets` ("all-linear", "attention" or module names).

        "all-linear" is PEFT's rule: every linear layer in the blocks, not lm_head. "attention" means q/k/v/o.
        Unknown names raise ValueError naming the modules this model has.
        """
        modules = self.linear_modules()
        names = [t.strip() for t in targets if t.strip()]
        if not names or names == ["all-linear"]:
            return dict(modules)
        if names == ["attention"]:
            attn = FUSED_ATTENTION_MODULES if self.fused else ATTENTION_MODULES
            return {n: modules[n] for n in attn}
        if self.fused:  # map Llama names onto Phi-3's fused modules
            names = ["qkv_proj" if n in ("q_proj", "k_proj", "v_proj") else
                     "gate_up_proj" if n in ("gate_proj", "up_proj") else n for n in names]
        unknown = [n for n in names if n not in modules]
        if unknown:
            raise ValueError(f"LoRA target(s) {unknown} are not linear modules of this {self.model_type} model; "
                             f"choose from all-linear, attention, {', '.join(modules)}")
        return {n: modules[n] for n in dict.fromkeys(names)}

    def lora_params(self, r: int, targets: Sequence[str]) -> int:
        """Trainable adapter elements: r × (in + out) per targeted module, in every block."""
        return self.layers * sum(r * (i + o) for i, o in self.lora_targets(targets).values())


def _first(cfg: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if cfg.get(key) is not None:
            return cfg[key]
    return default


def shape_from_config(cfg: Mapping[str, Any]) -> ModelShape:
    """Read a `config.json` dict (Llama, Mistral, Qwen2/3, Gemma-2, Phi-3 ...) into a ModelShape.

    Multimodal configs that nest the language model under `text_config` are read from there.
    Raises ValueError naming the missing key when the config lacks a width, depth or head count.
    """
    if "text_config" in cfg and "hidden_size" not in cfg:
        cfg = cfg["text_config"]
    missing = [k for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
               if _first(cfg, k, {"hidden_size": "n_embd", "num_hidden_layers": "n_layer",
                                  "num_attention_heads": "n_head", "vocab_size": "vocab_size"}[k]) is None]
    if missing:
        raise ValueError(f"config.json lacks {', '.join(missing)}: not a decoder-only transformer config")
    hidden = int(_first(cfg, "hidden_size", "n_embd"))
    heads = int(_first(cfg, "num_attention_heads", "n_head"))
    return ModelShape(
        hidden=hidden,
        layers=int(_first(cfg, "num_hidden_layers", "n_layer")),
        heads=heads,
        kv_heads=int(_first(cfg, "num_key_value_heads", default=heads)),
        head_dim=int(_first(cfg, "head_dim", default=hidden // heads)),
        intermediate=int(_first(cfg, "intermediate_size", "n_inner", default=4 * hidden)),
        vocab=int(cfg["vocab_size"]),
        tied_embeddings=bool(cfg.get("tie_word_embeddings", True)),
        max_positions=int(_first(cfg, "max_position_embeddings", "n_positions", default=2048)),
        model_type=str(cfg.get("model_type", "llama")),
    )
