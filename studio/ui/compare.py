"""Compare tab: base vs adapters side by side, blind A/B votes, batch evaluation, export (issue #7)."""

import gradio as gr

TITLE = "Compare"


def build(ctx) -> None:
    gr.Markdown("**Coming next.** Side-by-side streaming chat of the base model and adapters on one copy of the "
                "weights, blind A/B voting, batch evaluation (perplexity, JSON validity, exact match, ROUGE-L) "
                "and adapter export or merge.")
