"""The model card written next to a run's adapter: what was trained, on what, how, and how it ended."""

from __future__ import annotations

from typing import Any

from studio.config import Recipe
from studio.recipe_io import recipe_to_yaml


def _figure(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def model_card(recipe: Recipe, status: dict[str, Any], data_info: dict[str, Any], run_id: str) -> str:
    """Markdown with a YAML front matter that the Hub and PEFT tools understand (base_model, library_name)."""
    base = recipe.model.name_or_path
    kind = {"lora": "LoRA adapter", "qlora": "QLoRA adapter (trained on 4-bit NF4 base weights)",
            "full": "fully fine-tuned model"}[recipe.method]
    metrics = {"final train loss": status.get("final_loss"), "best eval loss": status.get("best_eval_loss"),
               "first eval loss": status.get("first_eval_loss"), "optimizer steps": status.get("step"),
               "peak memory (GiB)": status.get("memory_gib"), "end state": status.get("state")}
    rows = "\n".join(f"| {name} | {_figure(v)} |" for name, v in metrics.items() if v is not None)
    data_rows = "\n".join(f"| {k} | {v} |" for k, v in data_info.items())
    load = ("from peft import PeftModel\nfrom transformers import AutoModelForCausalLM\n"
            f"base = AutoModelForCausalLM.from_pretrained({base!r})\n"
            "model = PeftModel.from_pretrained(base, \"path/to/this/folder\")" if recipe.method != "full" else
            "from transformers import AutoModelForCausalLM\n"
            "model = AutoModelForCausalLM.from_pretrained(\"path/to/this/folder\")")
    return (f"---\nbase_model: {base}\nlibrary_name: {'peft' if recipe.method != 'full' else 'transformers'}\n"
            f"tags: [fine-tune-studio, {recipe.method}]\n---\n\n"
            f"# {recipe.name}: {kind}\n\n{recipe.description or ''}\n\n"
            f"Trained by Fine-Tune Studio, run `{run_id}`, on `{recipe.data.dataset}`.\n\n"
            f"## Results\n\n| metric | value |\n| --- | --- |\n{rows}\n\n"
            f"## Data\n\n| item | count |\n| --- | --- |\n{data_rows}\n\n"
            f"## Load it\n\n```python\n{load}\n```\n\n"
            f"## Recipe\n\n```yaml\n{recipe_to_yaml(recipe)}```\n")
