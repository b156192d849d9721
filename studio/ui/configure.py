"""Configure tab. For now: open a shipped recipe and see it checked; the full form and estimators come with #5."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from studio.recipe_io import RecipeError, load_recipe, recipe_to_yaml

TITLE = "Configure"


def recipe_choices(recipes_dir: Path) -> list[str]:
    return sorted(p.name for p in recipes_dir.glob("*.yaml"))


def show_recipe(recipes_dir: Path, name: str | None) -> tuple[str, str]:
    """A verdict line and the checked recipe as YAML (every field, defaults filled in)."""
    if not name:
        return "Pick a recipe.", ""
    path = recipes_dir / Path(name).name  # a name from the list, never a path the browser made up
    try:
        recipe = load_recipe(path)
    except RecipeError as exc:
        raw = path.read_text(encoding="utf-8") if path.is_file() else ""
        return f"**Invalid recipe**\n\n```\n{exc}\n```", raw
    return (f"**Valid** · method `{recipe.method}` · model `{recipe.model.name_or_path}` · the CLI equivalent "
            f"is `python -m studio check recipes/{path.name}`", recipe_to_yaml(recipe))


def build(ctx) -> None:
    gr.Markdown("Recipes shipped in `recipes/`, checked by the same validator as the CLI. The full form with "
                "live batch, schedule and VRAM estimates is coming next.")
    choices = recipe_choices(ctx.recipes_dir)
    # The recipe that runs on any machine is the natural first look.
    first = "cpu-demo.yaml" if "cpu-demo.yaml" in choices else (choices[0] if choices else None)
    message, yaml_text = show_recipe(ctx.recipes_dir, first)
    picker = gr.Dropdown(choices=choices, value=first, label="Recipe")
    verdict = gr.Markdown(message, elem_id="recipe-verdict")
    text = gr.Code(yaml_text, language="yaml", label="Recipe with every default filled in", interactive=False)
    picker.change(lambda name: show_recipe(ctx.recipes_dir, name), picker, [verdict, text])
