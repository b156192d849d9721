"""What the Train tab shows, computed from the run folders: runs table, progress, alerts, log, plots. No Gradio.

Each browser session holds one `TrainView` (in a gr.State): the event cursors of the runs it displays and what it
last sent, so a poll reads only appended event lines and sends only what changed. Nothing per run is kept anywhere
else, so a page refresh or an app restart finds every run as it is on disk.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.train import runner
from studio.train.checkpoints import list_checkpoints
from studio.train.curves import DEFAULT_SMOOTHING, FIRST_STEP, LOADING, Progress, curves, progress
from studio.train.events import (EVENTS_FILE, FAILED, FINISHED, LIVE_STATES, LOG_FILE, QUEUED, STOPPED, EventCursor,
                                 log_tail, read_events)
from studio.train.plots import train_figures
from studio.ui.i18n import tr
from studio.ui.vram_view import advice_text
from studio.workspace import Workspace

RUN_COLUMNS = ["run", "state", "method", "model", "data", "step", "best eval loss", "training time",
               "peak GiB (measured / est.)", "adapter", "queue"]
COLUMN_WIDTHS = ["16%", "7%", "5%", "11%", "11%", "7%", "6%", "8%", "9%", "15%", "5%"]
LATEST = "latest"
FIGURES_EVERY_S = 6.0  # plots of a live run are rebuilt at most this often; the table and progress every poll
LOG_BYTES, LOG_LINES = 8000, 20
# The worker writes each alert as a code, its fields and an English `message`; the tab words the codes it knows
# itself (translated at call time) and shows the message for any other. The OOM alert's wording depends on whether
# it carries advice; damaged-checkpoint alerts are read back from the message (`alert_text`).
ALERT_TEXTS = {
    "nan_loss": "loss is {value} at step {step}: training stopped; the last good checkpoint is kept. Lower the "
                "learning rate, check the batch's samples, or use bf16 instead of fp16.",
    "loss_spike": "loss spike at step {step}: {value:.4g} is {ratio:.1f}× the recent median {median:.4g}; inspect "
                  "samples {samples}",
    "diverged": "loss diverged: {value:.4g} at step {step}, far above the best {best:.4g} for several steps; training "
                "stopped and the last checkpoint from before the divergence is kept. Lower the learning rate (LoRA: "
                "5e-5 to 2e-4) or lengthen warmup.",
    "nan_grad": "gradient norm is {value} at step {step}: training stopped; the last good checkpoint is kept. Lower "
                "the learning rate or keep max_grad_norm at 1.0.",
    "vanished": "the gradient norm has been exactly 0 since step {since_step}: the model collapsed and cannot learn "
                "any more, typically after a learning rate far too high. Training stopped; the last checkpoint from "
                "before is kept. Lower the learning rate (LoRA: 5e-5 to 2e-4).",
    "grad_explosion": "gradient norm {value:.4g} at step {step} is {ratio:.0f}× the recent median {median:.4g}; "
                      "clipping at max_grad_norm keeps the update bounded, but a lower learning rate or longer warmup "
                      "may be needed.",
    "oom": "out of memory at step {step}: lower the micro-batch or max length",
    "oom_advice": "out of memory at step {step}; what to try is listed below",
    "no_checkpoint": "no usable checkpoint to resume from: training starts again from step 0",
    "checkpoint_damaged": "{checkpoint} cannot be resumed from: {why}; trying the one before it",
}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    if s >= 3600:
        return tr("{hours} h {minutes:02d} min", hours=s // 3600, minutes=s % 3600 // 60)
    return (tr("{minutes} min {seconds:02d} s", minutes=s // 60, seconds=s % 60) if s >= 60 else
            tr("{seconds} s", seconds=s))


def _gib(value: Any) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def run_row(run: dict, now: float, step: int | None = None) -> list[str]:
    """One table row from a run's status (list_runs gives each its id and queue position); `step`, when given, is
    the progress readout's step (status.json has the step of the last log, the events the last step)."""
    started, ended = run.get("started"), run.get("ended")
    live = run.get("state") in LIVE_STATES
    # The worker adds up training time over resumes; before its first log, the time since this attempt started.
    took = run.get("train_seconds") or ((now if live or not ended else ended) - started if started else None)
    total = run.get("total_steps")
    best = run.get("best_eval_loss")
    output = f"runs/{run['run_id']}/{run['output']}" if run.get("output") else "—"
    return [run["run_id"], tr(run.get("state", "?")), run.get("method", ""), run.get("model", ""),
            run.get("dataset", ""), f"{step if step is not None else run.get('step') or 0} / {total}" if total else "—",
            "—" if best is None else f"{float(best):.4f}", duration(took),
            f"{_gib(run.get('memory_gib'))} / {_gib(run.get('estimated_peak_gib'))}", output,
            str(run["queue_position"]) if run.get("queue_position") else ""]


# What the readout calls a live run before its first step of this attempt (curves.Progress.phase).
PHASE_LABELS = {LOADING: "starting: loading model…", FIRST_STEP: "starting: first training step…"}
# What the message line says once the run it shows ends (the worker's error stays in English, as alerts do).
FINAL_MESSAGES = {
    STOPPED: "**{run}** stopped at step {step}; the checkpoint and the adapter are saved in `{output}`. Resume "
             "continues from the last checkpoint.",
    "stopped_early": "**{run}** stopped at step {step} before training began; nothing was saved.",
    "stopped_error": "**{run}** stopped at step {step}: {error}",
    FINISHED: "**{run}** finished at step {step}; the adapter is saved in `{output}`.",
    FAILED: "**{run}** failed at step {step}: {error}",
}


def progress_html(status: dict, events: list[dict], now: float, p: Progress | None = None) -> str:
    """State (or the starting phase), a progress bar, step / total, elapsed worker time and the ETA from recent
    steps/s. The bar has no value while the run starts: the browser draws it as busy."""
    if not status:
        return f"<p>{html.escape(tr('No run selected. Launch one above.'))}</p>"
    state = status.get("state", "?")
    p = p or progress(events, status, state in LIVE_STATES, now)
    label = PHASE_LABELS.get(p.phase, state)
    parts = [f"<b id='train-state'>{html.escape(tr(label))}</b>",
             tr("step {step}", step=f"<b id='train-step'>{p.step}</b>")
             + (f" / {p.total} ({p.fraction:.0%})" if p.total else ""),
             html.escape(tr("elapsed {time}", time=duration(p.elapsed_s)))]
    if p.eta_s is not None:
        parts.append(html.escape(tr("ETA {time} at {speed:.2f} steps/s", time=duration(p.eta_s),
                                    speed=p.steps_per_second)))
    if state == QUEUED and status.get("queue_position"):
        parts.append(html.escape(tr("queue position {n}", n=status["queue_position"])))
    error = f"<p style='color:#b91c1c'>{html.escape(str(status['error']))}</p>" if status.get("error") else ""
    value = "" if p.phase in PHASE_LABELS else f" value='{p.step}'"
    return (f"<div id='train-phase' data-phase='{html.escape(p.phase)}'>{' · '.join(parts)}</div>"
            f"<progress{value} max='{p.total or 1}' style='width:100%;height:14px'></progress>{error}")


def final_message(status: dict, step: int) -> str | None:
    """The message line for a run that has just ended: how, at which step, and where its output is."""
    state, run_id = status.get("state"), status.get("run_id", "?")
    output = f"runs/{run_id}/{status['output']}" if status.get("output") else None
    if state == STOPPED:
        key = "stopped_error" if status.get("error") else STOPPED if output else "stopped_early"
    elif state in (FINISHED, FAILED):
        key = state
    else:
        return None
    return tr(FINAL_MESSAGES[key], run=run_id, step=step, output=output or "—", error=status.get("error") or "?")


def alert_text(event: dict) -> str:
    """What an alert says, in the current language, from its code and fields; the worker's own (English) message
    when the code is not one the tab knows or a field it needs is missing."""
    code, fields = event.get("alert"), dict(event)
    if code == "oom" and event.get("advice"):
        code = "oom_advice"
    if code == "checkpoint_damaged":  # its only field is the message: "<name> cannot be resumed from: <why>; …"
        found = re.fullmatch(r"(\S+) cannot be resumed from: (.*); trying the one before it", str(event.get("message")))
        if found is None:
            return str(event.get("message", ""))
        fields.update(checkpoint=found[1], why=found[2])
    ids = [str(i) for i in event.get("sample_ids") or []]
    fields["samples"] = ", ".join(ids[:8]) + (" …" if len(ids) > 8 else "")
    try:
        if isinstance(fields.get("value"), (int, float)) and fields.get("median"):
            fields["ratio"] = fields["value"] / fields["median"]
        return tr(ALERT_TEXTS[code], **fields)
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):
        return str(event.get("message", ""))


def advice_line(advice: str) -> str:
    """One item of the OOM alert's advice, "<action> (saves ~<size>)" as the worker words it, translated."""
    found = re.fullmatch(r"(.*) \(saves ~(.+)\)", advice)
    return (tr("{action} (saves ~{size})", action=advice_text(found[1]), size=found[2]) if found
            else advice_text(advice))


def _alert_line(event: dict) -> str:
    line = (f"- **{tr('step {step}', step=event.get('step', '—'))}** · `{event.get('alert', 'alert')}` · "
            f"{alert_text(event)}")
    ids = event.get("sample_ids") or []
    if len(ids) > 8:  # the message names the first eight
        line += "\n  - " + tr("all samples: {ids}", ids=", ".join(map(str, ids)))
    for advice in event.get("advice") or []:
        line += "\n  - " + tr("try: {advice}", advice=advice_line(advice))
    return line


def alerts_markdown(status: dict, events: list[dict]) -> str:
    """Every alert of the run, oldest first (NaN/inf, spikes with sample ids, OOM advice, damaged checkpoints)."""
    lines = [_alert_line(e) for e in events if e.get("kind") == "alert"]
    if status.get("error") and status.get("state") == "failed":
        lines.append(f"- **{tr('failed')}** · {status['error']}")  # the worker's reason, in English
    return "\n".join(lines) if lines else tr("No alerts.")


def last_lines(text: str, n: int = LOG_LINES) -> str:
    """The last `n` lines; progress bars that redraw with carriage returns count by their final state."""
    lines = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
    return "\n".join(lines[-n:])


def checkpoint_choices(folder: Path) -> list[str]:
    return [LATEST, *(p.name for p in reversed(list_checkpoints(folder)))]


@dataclass
class TrainView:
    """One browser session's view of the runs: event cursors by run id, and what it last sent."""

    cursors: dict[str, EventCursor] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)
    figures_at: float = -1e9  # time.monotonic() of the last figures sent

    def events(self, folder: Path) -> EventCursor:
        """The run's events, reading only what was appended since the last call (a stat when nothing was)."""
        cursor = self.cursors.setdefault(folder.name, EventCursor())
        try:
            grown = (folder / EVENTS_FILE).stat().st_size != cursor.offset
        except OSError:
            grown = False
        return read_events(folder, cursor) if grown else cursor

    def forget(self, run_ids: list[str]) -> None:
        """Drop the cursors of runs that no longer exist (deleted)."""
        self.cursors = {k: c for k, c in self.cursors.items() if k in run_ids}

    def changed(self, key: str, value: Any, force: bool) -> Any:
        """`value` if it differs from what was last sent under `key` (or `force`), else None (send nothing)."""
        if not force and key in self.sent and self.sent[key] == value:
            return None
        self.sent[key] = value
        return value


@dataclass
class Refresh:
    """What a poll sends; None means unchanged (the tab leaves that component alone)."""

    rows: list | None
    run_ids: list[str] | None
    selected: str | None
    progress: str | None
    alerts: str | None
    log: str | None
    figures: tuple | None
    checkpoints: list[str] | None
    message: str | None = None  # how the shown run ended, once, when a poll sees it end
    reselected: bool = False  # `selected` is not the one asked for (none yet, or it was deleted)


def start_next_if_idle(ws: Workspace, runs: list[dict]) -> None:
    """The UI's share of draining the queue (runner docstring): start the next run when nothing is live."""
    if any(r.get("state") == QUEUED for r in runs) and not any(r.get("state") in LIVE_STATES for r in runs):
        runner.tick(ws)


def _figures(ws: Workspace, view: TrainView, ids: list[str], log_y: bool, force: bool) -> tuple | None:
    """The four figures when their data changed; while events keep arriving, at most every FIGURES_EVERY_S, since
    building them is most of a poll's cost and the poll shares the CPU with the run it shows."""
    cursors = [(run_id, view.events(ws.runs / run_id)) for run_id in ids]
    key = (tuple((run_id, c.offset) for run_id, c in cursors), log_y)
    last = view.sent.get("figures")
    same_plots = last is not None and last[1] == log_y and [r for r, _ in last[0]] == list(ids)
    if not force and same_plots and time.monotonic() - view.figures_at < FIGURES_EVERY_S:
        return None  # new points wait for the next rebuild; a new selection or scale is drawn at once
    if view.changed("figures", key, force) is None:
        return None
    view.figures_at = time.monotonic()
    return train_figures([(run_id, curves(c.events)) for run_id, c in cursors], log_y, DEFAULT_SMOOTHING, text=tr)


def refresh(ws: Workspace, view: TrainView, selected: str | None, overlays: list[str] | None, log_y: bool,
            force: bool = False) -> Refresh:
    """Everything the tab shows for `selected` (and overlaid runs), reading status files and new event lines."""
    now = time.time()
    runs = runner.list_runs(ws)
    start_next_if_idle(ws, runs)
    ids = [r["run_id"] for r in runs]
    asked = selected
    if selected not in ids:
        selected = ids[0] if ids else None
    run_ids = view.changed("run_ids", (ids, selected), force)
    status = next((r for r in runs if r["run_id"] == selected), {})
    if selected is None:
        return Refresh(view.changed("rows", [], force), ids if run_ids else None, None,
                       view.changed("progress", progress_html({}, [], now), force), None, None, None, None,
                       reselected=asked is not None)
    view.forget(ids)
    folder = ws.runs / selected
    cursor = view.events(folder)
    shown = [selected, *(o for o in overlays or [] if o in ids and o != selected)]
    log_key = (selected, (folder / LOG_FILE).stat().st_size if (folder / LOG_FILE).exists() else 0)
    checkpoints = view.changed("checkpoints", (selected, *checkpoint_choices(folder)), force)
    # Progress and alerts change with the events or the status, and the clock moves them only while live.
    live = status.get("state") in LIVE_STATES
    detail = view.changed("detail", (selected, cursor.offset, status.get("updated"), live), force) or live
    p = progress(cursor.events, status, live, now)
    rows = [run_row(r, now, p.step if r["run_id"] == selected else None) for r in runs]
    return Refresh(rows=view.changed("rows", rows, force),
                   run_ids=ids if run_ids else None, selected=selected,
                   progress=view.changed("progress", progress_html(status, cursor.events, now, p), force) if detail
                   else None,
                   alerts=view.changed("alerts", alerts_markdown(status, cursor.events), force) if detail else None,
                   log=last_lines(log_tail(folder, LOG_BYTES)) if view.changed("log", log_key, force) else None,
                   figures=_figures(ws, view, shown, log_y, force),
                   checkpoints=list(checkpoints[1:]) if checkpoints else None,
                   message=_ended(view, selected, status, p.step), reselected=selected != asked)


def _ended(view: TrainView, run_id: str, status: dict, step: int) -> str | None:
    """The final message when this poll is the first to see the shown run out of a queued or live state."""
    before, state = view.sent.get("watched"), status.get("state")
    view.sent["watched"] = (run_id, state)
    if before is None or before[0] != run_id or before[1] not in (QUEUED, *LIVE_STATES):
        return None
    return final_message(status, step) if state != before[1] else None
