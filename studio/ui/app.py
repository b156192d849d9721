"""The Gradio Blocks app: header, the five tabs in their fixed order, and the server launch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from studio.config import DEMO_MODEL
from studio.device import DeviceInfo, detect_device
from studio.launch import ServerOptions
from studio.ui import compare, configure, data, quality, train
from studio.workspace import Workspace

TAB_MODULES = (data, quality, configure, train, compare)
TAB_NAMES = tuple(module.TITLE for module in TAB_MODULES)
RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"


@dataclass(frozen=True)
class StudioContext:
    """What every tab may read: where things live and what the studio runs on."""

    workspace: Workspace
    model: str
    device: DeviceInfo
    recipes_dir: Path = RECIPES_DIR


def header_markdown(ctx: StudioContext) -> str:
    return (f"## Fine-Tune Studio\n"
            f"**Device:** {ctx.device.label()} &nbsp;·&nbsp; **Workspace:** `{ctx.workspace.root}` "
            f"&nbsp;·&nbsp; **Model:** `{ctx.model}`")


def build_app(ctx: StudioContext) -> gr.Blocks:
    with gr.Blocks(title="Fine-Tune Studio", analytics_enabled=False) as demo:
        gr.Markdown(header_markdown(ctx), elem_id="studio-header")
        with gr.Tabs(elem_id="studio-tabs"):
            form = None  # the Configure tab's recipe form, which the Train tab launches
            for module in TAB_MODULES:
                with gr.Tab(module.TITLE, id=module.TITLE.lower()):
                    built = module.build(ctx, form) if module is train else module.build(ctx)
                    form = built if module is configure else form
    return demo


# System fonts only: the studio must render offline, and Gradio's default theme asks Google Fonts for its faces.
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "monospace"])


def serve(options: ServerOptions, workspace: str | None = None, model: str = DEMO_MODEL) -> int:
    ctx = StudioContext(Workspace.open(workspace), model, detect_device())
    print(f"Fine-Tune Studio on http://{options.host}:{options.port}  (workspace {ctx.workspace.root}, "
          f"model {model}, {ctx.device.label()})", flush=True)
    build_app(ctx).queue().launch(server_name=options.host, server_port=options.port, share=options.share,
                                  auth=options.auth, ssr_mode=False, show_error=True, theme=THEME,
                                  footer_links=["settings"], quiet=True)
    return 0

