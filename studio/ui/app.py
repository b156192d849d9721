"""The Gradio Blocks app: header, the five tabs in their fixed order, and the server launch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from studio.config import DEMO_MODEL
from studio.device import DeviceInfo, detect_device
from studio.launch import ServerOptions
from studio.ui import compare, configure, data, i18n, quality, train
from studio.ui.i18n import tr
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
            f"**{tr('Device')}:** {ctx.device.label()} &nbsp;·&nbsp; **{tr('Workspace')}:** `{ctx.workspace.root}` "
            f"&nbsp;·&nbsp; **{tr('Model')}:** `{ctx.model}`")


def build_app(ctx: StudioContext) -> gr.Blocks:
    # Tabs are built from their English literals whatever the saved language; each page then opens in it.
    saved = i18n.read_language(ctx.workspace)
    i18n.use_language(i18n.DEFAULT_LANGUAGE)
    i18n.take_refreshers()
    with gr.Blocks(title="Fine-Tune Studio", analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            header = gr.Markdown(header_markdown(ctx), elem_id="studio-header")
            language = gr.Radio([(name, code) for code, name in i18n.LANGUAGES.items()], value=saved,
                                show_label=False, container=False, scale=0, min_width=260,
                                elem_id="studio-language")
        with gr.Tabs(elem_id="studio-tabs") as studio_tabs:
            form = None  # the Configure tab's recipe form, which the Train tab launches
            tabs, built_tabs = [], {}
            for module in TAB_MODULES:
                with gr.Tab(module.TITLE, id=module.TITLE.lower()) as tab:
                    built = module.build(ctx, form) if module is train else module.build(ctx)
                    form = built if module is configure else form
                tabs.append(tab)
                built_tabs[module] = built
        poll_only_when_shown(tabs, {TAB_MODULES.index(train): built_tabs[train].timer,
                                    TAB_MODULES.index(compare): built_tabs[compare].timer})
        trained = built_tabs[train]
        compare.wire(built_tabs[compare], tabs[TAB_MODULES.index(compare)], studio_tabs, trained.compare,
                     trained.selected, trained.message)
        # The Configure readouts and data-set lists follow the data sets on disk (one made in the Data tab changes
        # the step count, and is offered in the list).
        tabs[TAB_MODULES.index(configure)].select(form.check, form.check_inputs, form.check_outputs,
                                                  show_progress="hidden")
        tabs[TAB_MODULES.index(configure)].select(form.refresh_lists, None, form.list_outputs, show_progress="hidden")
        built_tabs[quality].follow(tabs[TAB_MODULES.index(quality)])  # its data set list, likewise
        translator = i18n.Translator(i18n.collect(demo, skip=[header, language]))
        wire_language(ctx, demo, translator, header, language)
    demo.translator = translator
    i18n.use_language(saved)
    return demo


def poll_only_when_shown(tabs: list, timers: dict[int, gr.Timer]) -> None:
    """A tab's timer (by tab index: the Train tab's poll, the Compare tab's look for new adapters) runs only while
    that tab is shown: a page left on another tab (or five of them, in a demo) costs the server and the training
    run nothing."""
    for timer in timers.values():
        timer.active = False  # the studio opens on the Data tab

    def shown_is(index: int):
        return lambda: [gr.Timer(active=owner == index) for owner in timers]

    for index, tab in enumerate(tabs):
        tab.select(shown_is(index), None, list(timers.values()), show_progress="hidden")


def wire_language(ctx: StudioContext, demo: gr.Blocks, translator: i18n.Translator, header, language) -> None:
    def switch(lang: str) -> list:
        i18n.save_language(ctx.workspace, lang)
        return [header_markdown(ctx), *translator.updates(lang)]

    def opened() -> list:
        lang = i18n.current_language()
        if lang == i18n.DEFAULT_LANGUAGE:
            return [gr.skip()] * (2 + len(translator.entries))
        return [lang, header_markdown(ctx), *translator.updates(lang)]

    # Text that handlers made is re-made after a switch, and on opening a page in a saved language other than
    # English (the tabs were built in English).
    refreshers = i18n.take_refreshers()
    event = language.input(switch, inputs=language, outputs=[header, *translator.outputs], show_progress="hidden")
    for fn, inputs, outputs in refreshers:
        event = event.then(fn, inputs=inputs, outputs=outputs, show_progress="hidden")
    event = demo.load(opened, outputs=[language, header, *translator.outputs], show_progress="hidden")
    for fn, inputs, outputs in refreshers:
        event = event.then(unless_english(fn, len(outputs)), inputs=inputs, outputs=outputs, show_progress="hidden")


def unless_english(fn, n_outputs: int):
    """`fn` on page load only when the page opens in a language other than the one the tabs were built in: five
    people opening the studio must not re-make every tab's text for nothing."""
    def run(*args):
        if i18n.current_language() == i18n.DEFAULT_LANGUAGE:
            return gr.skip() if n_outputs == 1 else tuple(gr.skip() for _ in range(n_outputs))
        return fn(*args)
    return run


# System fonts only: the studio must render offline, and Gradio's default theme asks Google Fonts for its faces.
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "monospace"])


def serve(options: ServerOptions, workspace: str | None = None, model: str = DEMO_MODEL) -> int:
    from studio.ui import server  # what may be served and uploaded (issue #8)

    ctx = StudioContext(Workspace.open(workspace, options.allowed_paths), model, detect_device())
    also = "".join(f", also {folder}" for folder in options.allowed_paths)
    # Never the password: the line goes to consoles and log files.
    print(f"Fine-Tune Studio on http://{options.host}:{options.port}  (workspace {ctx.workspace.root}{also}, "
          f"model {model}, {ctx.device.label()}, uploads up to {options.max_upload_mb} MB)", flush=True)
    # `_frontend=False` skips Gradio's start-up probe of its own page: one HEAD request with a 3 s timeout, which
    # a machine busy training misses (the page is ~450 components), and the studio then exits with "localhost is
    # not accessible". The server is the same either way; the probe only decides whether to refuse to start.
    build_app(ctx).queue().launch(server_name=options.host, server_port=options.port, share=options.share,
                                  auth=options.auth, ssr_mode=False, show_error=True, theme=THEME,
                                  footer_links=["settings"], quiet=True, _frontend=False,
                                  **server.launch_settings(ctx.workspace, ctx.recipes_dir, options.max_upload_mb))
    return 0

