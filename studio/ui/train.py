"""Train tab: launch the Configure tab's recipe as a run, watch runs live, stop, resume, reorder, delete (issue #6).

Every run is read from its folder under WORKSPACE/runs/ on each poll (`train_views.refresh`); the only state kept
here is a per-session `TrainView` in gr.State, so closing the page, refreshing it or restarting the app loses
nothing. The runner does the work; handlers only call it and turn a `RunError` into a message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from studio.data.versions import dataset_file
from studio.paths import check_recipe_paths
from studio.recipe_fields import recipe_from_values
from studio.recipe_io import RecipeError, load_recipe
from studio.train import runner
from studio.train.events import read_status
from studio.ui import i18n
from studio.ui import train_views as views
from studio.ui.configure import RecipeForm, recipe_choices
from studio.ui.i18n import tr
from studio.workspace import Workspace

TITLE = "Train"
POLL_S = 2.0


def launch_recipe(ws: Workspace, recipe_of) -> tuple[str, object]:
    """Queue a run of the recipe `recipe_of()` returns (started at once when nothing trains); select it."""
    try:
        recipe = check_recipe_paths(ws, recipe_of())  # the model and data must lie where the UI may read
        dataset_file(ws, recipe.data.dataset)
    except RecipeError as exc:
        # Each field's message comes from studio.config and stays English.
        problems = "\n".join(f"- `{e.path}`: {e.message}" for e in exc.errors)
        return (tr("**Not launched: {count} problem(s)** in the recipe — fix these fields:", count=len(exc.errors))
                + f"\n\n{problems}", gr.skip())
    except (FileNotFoundError, ValueError, OSError) as exc:
        return tr("**Not launched:** `data.dataset`: {error}", error=exc), gr.skip()
    freed = free_gpu_for(recipe)
    try:
        folder = runner.launch(ws, recipe)
    except runner.RunError as exc:
        return tr("**Not launched:** {error}", error=exc), gr.skip()
    where = (tr("queued at position {n} (one run trains at a time)", n=len(runner.read_queue(ws)))
             if read_status(folder).get("state") == "queued" else tr("started"))
    ids = [r["run_id"] for r in runner.list_runs(ws)]
    return tr("Launched **{run}**: {where}.", run=folder.name, where=where) + freed, \
        gr.update(choices=ids, value=folder.name)


def free_gpu_for(recipe) -> str:
    """Unload the Compare tab's chat models when the run will use the GPU; what was unloaded, for the message."""
    if recipe.runtime.device == "cpu":
        return ""
    import torch

    if not torch.cuda.is_available():
        return ""
    from studio.chat import registry

    released = registry.release_all()
    return (" " + tr("Unloaded the chat model(s) of the Compare tab to free GPU memory for training: {models}. They "
                     "load again when you next use Compare.", models="; ".join(released))) if released else ""


def recipe_file(recipes_dir: Path, name: str | None):
    """The recipe in recipes/`name` (only the file name counts, so nothing outside recipes/ can be named)."""
    return load_recipe(recipes_dir / Path(name or "(none chosen)").name)


def select_row(rows, evt: gr.SelectData):
    """The run id of the clicked row of the runs table."""
    return rows.iloc[evt.index[0], 0] if len(rows) else gr.skip()


def act(message_of) -> str:
    """Run a runner action; a RunError (the action does not apply to the run as it is) becomes the message, in
    English as the runner words it."""
    try:
        return message_of()
    except (runner.RunError, OSError) as exc:  # OSError: the process ended between the check and the signal
        return f"⚠ {exc}"


def delete_run(ws: Workspace, run_id: str, confirmed: bool) -> str:
    if not confirmed:
        return tr("⚠ Tick *confirm delete* first: deleting removes the run folder, its checkpoints and its adapter.")
    runner.delete(ws, run_id)
    return tr("Deleted {run}.", run=run_id)


def make_report(ws: Workspace, run_id: str | None) -> tuple[str, object]:
    """The run's stakeholder report, written to WORKSPACE/reports/runs/<run_id>/report.html and offered to download."""
    from studio.report.collect import ReportError
    from studio.report.report_command import write_run_report

    try:
        path = write_run_report(ws, run_id or "")
    except (ReportError, OSError) as exc:
        return f"⚠ {exc}", gr.update(visible=False)
    message = tr("Report of **{run}** created at {time} in `{path}` (one HTML file that opens offline).", run=run_id,
                 time=time.strftime("%H:%M:%S"), path=path)
    # The message line sits above the runs table, often scrolled out of view from this button: a toast confirms it
    # where the user is, and the time tells a second report of the same run from the first.
    gr.Info(tr("Report created: {path}", path=path))
    return message, gr.update(value=str(path), visible=True)


def outputs(r: views.Refresh, view: views.TrainView, overlays: list[str] | None) -> tuple:
    """A Refresh as component updates, skipping whatever did not change since this session's last poll."""
    skip = gr.skip()
    ids = r.run_ids
    # The run picker's value is sent only when the refresh chose another run: a poll that read the picker before a
    # launch selected the new run must not put the old one back (it would show the old run's progress).
    picker = {**({} if ids is None else {"choices": ids}), **({"value": r.selected} if r.reselected else {})}
    return (view, skip if r.rows is None else i18n.table(views.RUN_COLUMNS, r.rows),
            gr.update(**picker) if picker else skip,
            skip if ids is None else gr.update(choices=ids, value=[o for o in overlays or [] if o in ids]),
            *(skip if v is None else v for v in (r.progress, r.alerts, r.log)),
            *(r.figures or (skip,) * 4),
            skip if r.checkpoints is None else gr.update(choices=r.checkpoints, value=views.LATEST),
            skip if r.message is None else r.message)


@dataclass
class TrainTab:
    """The tab's components that events read or write."""

    view: gr.State
    launch: gr.Button
    file_pick: gr.Dropdown
    launch_file: gr.Button
    message: gr.Markdown
    runs: gr.Dataframe
    selected: gr.Dropdown
    overlays: gr.Dropdown
    log_y: gr.Checkbox
    progress: gr.HTML
    stop: gr.Button
    checkpoint: gr.Dropdown
    resume: gr.Button
    compare: gr.Button
    report: gr.Button
    report_file: gr.DownloadButton
    cancel: gr.Button
    up: gr.Button
    down: gr.Button
    confirm: gr.Checkbox
    delete: gr.Button
    plots: tuple[gr.Plot, gr.Plot, gr.Plot, gr.Plot]  # loss, learning rate, grad norm, tokens/s
    alerts: gr.Markdown
    log: gr.Textbox
    timer: gr.Timer

    def shown(self) -> list:
        """What a poll updates, in the order of `outputs`."""
        return [self.view, self.runs, self.selected, self.overlays, self.progress, self.alerts, self.log,
                *self.plots, self.checkpoint, self.message]


def layout(ctx, has_form: bool) -> TrainTab:
    c: dict = {"view": gr.State(lambda: views.TrainView())}  # a factory: one fresh view per browser session
    with gr.Row():
        c["launch"] = gr.Button("Train this recipe", variant="primary", scale=2, elem_id="train-launch",
                                visible=has_form)
        files = recipe_choices(ctx.recipes_dir)
        c["file_pick"] = gr.Dropdown(files, value="cpu-demo.yaml" if "cpu-demo.yaml" in files else None,
                                     label="…or a recipe file from recipes/", scale=2, elem_id="train-recipe-file")
        c["launch_file"] = gr.Button("Train this file", scale=1, elem_id="train-launch-file")
    c["message"] = gr.Markdown(elem_id="train-message")
    c["runs"] = gr.Dataframe(headers=views.RUN_COLUMNS, datatype="str", interactive=False, max_height=320,
                             wrap=True, column_widths=views.COLUMN_WIDTHS, elem_id="train-runs",
                             label="Runs (newest first; click a row to select it)")
    with gr.Row():
        c["selected"] = gr.Dropdown([], label="Run", scale=3, elem_id="train-run-select")
        c["overlays"] = gr.Dropdown([], multiselect=True, label="Overlay the loss of these runs", scale=3,
                                    elem_id="train-overlay")
        c["log_y"] = gr.Checkbox(False, label="Log-scale loss", scale=1, elem_id="train-log-y")
    c["progress"] = gr.HTML(elem_id="train-progress")
    with gr.Row(equal_height=True):
        c["stop"] = gr.Button("Stop (save and stop)", variant="stop", elem_id="train-stop")
        c["checkpoint"] = gr.Dropdown([views.LATEST], value=views.LATEST, label="Resume from",
                                      elem_id="train-checkpoint")
        c["resume"] = gr.Button("Resume", variant="primary", elem_id="train-resume")
        c["compare"] = gr.Button("Open in Compare", elem_id="train-compare")
        c["report"] = gr.Button("Create report", elem_id="train-report")
        c["report_file"] = gr.DownloadButton("Download report", visible=False, elem_id="train-report-download")
    with gr.Row(equal_height=True):
        c["cancel"] = gr.Button("Cancel (queued)", size="sm", elem_id="train-cancel")
        c["up"] = gr.Button("Move up in queue", size="sm", elem_id="train-up")
        c["down"] = gr.Button("Move down in queue", size="sm", elem_id="train-down")
        c["confirm"] = gr.Checkbox(False, label="confirm delete", elem_id="train-delete-confirm")
        c["delete"] = gr.Button("Delete run", variant="stop", size="sm", elem_id="train-delete")
    loss = gr.Plot(elem_id="train-loss-plot")
    with gr.Row():
        c["plots"] = (loss, gr.Plot(elem_id="train-lr-plot"), gr.Plot(elem_id="train-grad-plot"),
                      gr.Plot(elem_id="train-tps-plot"))
    gr.Markdown("#### Alerts")
    c["alerts"] = gr.Markdown(elem_id="train-alerts")
    c["log"] = gr.Textbox(label="worker.log (last lines)", lines=8, max_lines=3 * views.LOG_LINES,
                          interactive=False, elem_id="train-log")
    c["timer"] = gr.Timer(POLL_S)
    return TrainTab(**c)


def build(ctx, form: RecipeForm | None = None) -> TrainTab:
    """The tab; `form` is the Configure tab's recipe form, which "Train this recipe" launches."""
    ws, t = ctx.workspace, layout(ctx, form is not None)
    watched, shown = [t.view, t.selected, t.overlays, t.log_y], t.shown()

    def poll(v, run_id, extra, log_scale, force=False):
        return outputs(views.refresh(ws, v, run_id, extra, log_scale, force), v, extra)

    def after(event):  # show an action's effect now rather than at the next tick
        event.then(lambda *a: poll(*a, force=True), watched, shown, show_progress="hidden")

    t.timer.tick(poll, watched, shown, show_progress="hidden")
    i18n.refresh_on_switch(lambda *a: poll(*a, force=True), watched, shown)
    gr.on([t.selected.input, t.overlays.input, t.log_y.input], lambda *a: poll(*a, force=True), watched, shown,
          show_progress="hidden")
    after(t.runs.select(select_row, t.runs, t.selected))
    if form is not None:
        after(t.launch.click(lambda *values: launch_recipe(ws, lambda: recipe_from_values(form.specs, list(values))),
                             form.controls, [t.message, t.selected]))
    after(t.launch_file.click(lambda name: launch_recipe(ws, lambda: recipe_file(ctx.recipes_dir, name)),
                              t.file_pick, [t.message, t.selected]))
    # runner.stop says what it did: "stopping" or "cancelled" (catalogue entries).
    after(t.stop.click(lambda r: act(lambda: f"{r}: {tr(runner.stop(ws, r))}"), t.selected, t.message))
    after(t.resume.click(lambda r, c: act(lambda: runner.resume(ws, r, c) or tr("{run}: resuming from {checkpoint}",
                                                                                 run=r, checkpoint=c)),
                         [t.selected, t.checkpoint], t.message))
    after(t.cancel.click(lambda r: act(lambda: runner.cancel(ws, r) or tr("{run}: cancelled", run=r)), t.selected,
                         t.message))
    after(t.up.click(lambda r: act(lambda: runner.move(ws, r, -1) or tr("{run}: moved up", run=r)), t.selected,
                     t.message))
    after(t.down.click(lambda r: act(lambda: runner.move(ws, r, 1) or tr("{run}: moved down", run=r)), t.selected,
                       t.message))
    after(t.delete.click(lambda r, ok: (act(lambda: delete_run(ws, r, ok)), False), [t.selected, t.confirm],
                         [t.message, t.confirm]))
    # "Open in Compare" (t.compare) is wired by the app once the Compare tab exists: compare.wire.
    t.report.click(lambda r: make_report(ws, r), t.selected, [t.message, t.report_file])
    t.selected.change(lambda: gr.update(visible=False), None, t.report_file, show_progress="hidden")
    return t
