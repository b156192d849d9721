"""`ReportData` as one self-contained HTML page: inline CSS, plotly.js inlined once, no request to anywhere.

Every text that comes from a file (names, paths, prompts, answers, the recipe, messages) goes through `esc`; the
only markup is this module's. Sections have stable ids (run, data, recipe, curves, memory, evaluation, examples,
votes) so a reader can link to one. A missing piece is said in words where it would have been.
"""

from __future__ import annotations

import html
import itertools
import json
import time
from typing import Any, Iterable

from studio.report.collect import Memory, ReportData, RunSummary
from studio.report.evidence import Evaluation, ExampleSet, VoteSummary
from studio.report.lineage import DataSource, QualityReport, VersionInfo
from studio.train.curves import DEFAULT_SMOOTHING, Curves

METHODS = {"lora": "LoRA", "qlora": "QLoRA (adapters on a 4-bit base)", "full": "full fine-tuning"}
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
PARAMETERS_SHOWN = 300  # characters of a version's parameters (a quality filter lists every id it spared)
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2937;margin:0;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px} h2{border-bottom:2px solid #e5e7eb;padding-bottom:4px;margin-top:36px}
h3{margin:22px 0 6px} h4{margin:14px 0 4px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:.92em} th,td{border:1px solid #e5e7eb;padding:4px 8px;
text-align:left;vertical-align:top} th{background:#f3f4f6} td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.mine td{background:#eef2ff;font-weight:600} .note{color:#6b7280} .missing{color:#92400e}
.problem{color:#b91c1c} code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
pre{background:#f3f4f6;padding:10px;overflow:auto;white-space:pre-wrap;word-break:break-word}
nav a{margin-right:12px} .pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.example{border:1px solid #e5e7eb;border-radius:6px;padding:10px 12px;margin:12px 0}
.example pre{margin:4px 0;max-height:320px} .quality{display:flex;gap:16px;flex-wrap:wrap}
footer{margin-top:40px;font-size:.85em;color:#6b7280}
"""
SECTIONS = (("data", "Data"), ("recipe", "Recipe"), ("curves", "Training curves"), ("memory", "Memory"),
            ("evaluation", "Evaluation"), ("examples", "Examples"), ("votes", "Blind votes"))


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def num(value: float | None, spec: str = ".4g") -> str:
    return "—" if value is None else format(value, spec)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def when(seconds: float | None) -> str:
    return "—" if seconds is None else time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(seconds))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    return f"{s // 3600} h {s % 3600 // 60:02d} min" if s >= 3600 else f"{s // 60} min {s % 60:02d} s"


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], row_class: Iterable[str] | None = None,
          numeric: Iterable[int] = ()) -> str:
    """A table of cells that are already HTML (escape text before); columns in `numeric` align right."""
    right = set(numeric)
    head = "".join(f"<th>{h}</th>" for h in headers)
    lines = []
    for row, cls in zip(rows, row_class or itertools.repeat("")):
        cells = "".join(f"<td class=\"n\">{c}</td>" if j in right else f"<td>{c}</td>" for j, c in enumerate(row))
        lines.append(f"<tr class=\"{cls}\">{cells}</tr>" if cls else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    return "<table class=\"facts\"><tbody>" + "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs) \
        + "</tbody></table>"


def header_html(run: RunSummary) -> str:
    steps = f"{run.step if run.step is not None else '—'} / {run.total_steps}" if run.total_steps else \
        esc(run.step if run.step is not None else "—")
    share = (f"{run.trainable_params:,} of {run.total_params:,} "
             f"({run.trainable_params / run.total_params:.2%})" if run.trainable_params and run.total_params else "—")
    processes = f"{run.processes} processes" if run.processes and run.processes > 1 else None
    state = esc(run.state) + (f" <span class=\"problem\">({esc(run.error)})</span>" if run.error else "")
    return (f"<header id=\"run\"><h1>Training report: <code>{esc(run.run_id)}</code></h1>"
            + facts([("run", f"<code>{esc(run.run_id)}</code>"), ("model", f"<code>{esc(run.model)}</code>"),
                     ("method", esc(METHODS.get(run.method, run.method))), ("state", state),
                     ("created", when(run.created)), ("started", when(run.started)), ("ended", when(run.ended)),
                     *span_facts(run), ("optimizer steps", steps),
                     ("device", esc(" · ".join(x for x in (run.device, run.precision, processes) if x) or "—")),
                     ("trainable parameters", share),
                     ("adapter", f"<code>runs/{esc(run.run_id)}/{esc(run.output)}</code>" if run.output
                      else "not saved (a run saves it when it finishes or is stopped)"),
                     ("final train loss", num(run.final_train_loss)), ("eval loss", eval_headline(run))])
            + "<nav>" + "".join(f"<a href=\"#{key}\">{title}</a>" for key, title in SECTIONS) + "</nav></header>")


def span_facts(run: RunSummary) -> list[tuple[str, str]]:
    """The run's span from its first start to its last end, its attempts, and the training time within it."""
    span = run.ended - run.started if run.started is not None and run.ended is not None else None
    attempts = str(run.attempts)
    if run.resumed_from:
        attempts += f" (resumed from step{'s' if len(run.resumed_from) > 1 else ''} " \
                    f"{', '.join(map(str, run.resumed_from))})"
    note = (f" <span class=\"note\">summed over {run.attempts} attempts: model loading and the pauses between "
            f"attempts are not counted</span>" if run.attempts > 1 else "")
    return [("span", duration(span)), ("attempts", esc(attempts)),
            ("training time", duration(run.train_seconds) + note)]


def eval_headline(run: RunSummary) -> str:
    if not run.eval_losses:
        return "no eval loss logged (eval split 0, or the run ended before its first evaluation)"
    first, last = run.eval_losses[0], run.eval_losses[-1]
    best = min(run.eval_losses, key=lambda p: p[1])
    return (f"first {num(first[1])} (step {first[0]}) · best {num(best[1])} (step {best[0]}) · "
            f"final <b id=\"final-eval-loss\">{num(last[1])}</b> (step {last[0]})")


def quality_html(report: QualityReport | None, kind: str) -> str:
    title = "Duplicates" if kind == "dedup" else "Perplexity"
    if report is None:
        what = "dedup" if kind == "dedup" else "perplexity"
        return f"<div><h4>{title}</h4><p class=\"missing\">no {what} report for this version</p></div>"
    if report.problem:
        return f"<div><h4>{title}</h4><p class=\"problem\">{esc(report.problem)}</p></div>"
    return f"<div><h4>{title}</h4>" + facts((k, esc(v)) for k, v in report.figures) + \
        f"<p class=\"note\"><code>{esc(report.path)}</code></p></div>"


def version_html(v: VersionInfo) -> str:
    if v.problem:
        return f"<h4>{esc(v.ref)}</h4><p class=\"problem\">{esc(v.problem)}</p>" + \
            f"<div class=\"quality\">{quality_html(v.dedup, 'dedup')}{quality_html(v.ppl, 'ppl')}</div>"
    params = json.dumps(v.parameters, ensure_ascii=False, default=str)
    params = params if len(params) <= PARAMETERS_SHOWN else params[:PARAMETERS_SHOWN] + "…"
    origin = (f"made from <code>{esc(v.parent)}</code> by <b>{esc(v.operation or '?')}</b>, which removed "
              f"{esc(f'{v.removed:,}' if v.removed is not None else '?')}" if v.parent else
              f"the first version, made by <b>{esc(v.operation or '?')}</b>")
    records = f"{v.records:,}" if v.records is not None else "?"
    return (f"<h4>{esc(v.ref)}</h4><p>{origin} · records: {esc(records)} · created {esc(v.created or '—')}</p>"
            f"<p class=\"note\">parameters: <code>{esc(params)}</code></p>"
            f"<div class=\"quality\">{quality_html(v.dedup, 'dedup')}{quality_html(v.ppl, 'ppl')}</div>")


def source_html(source: DataSource) -> str:
    path = f" · <code>{esc(source.path)}</code>" if source.path else ""
    notes = "".join(f"<p class=\"note\">{esc(n)}</p>" for n in source.notes)
    versions = ""
    if source.lineage:
        versions = (f"<p>Versions, the one trained on first, then each parent ({len(source.lineage)}):</p>"
                    + "".join(version_html(v) for v in source.lineage))
    cls = " class=\"problem\"" if source.kind == "not found" else ""
    return (f"<h3>{esc(source.role)}: <code>{esc(source.ref)}</code></h3><p{cls}>{esc(source.kind)}{path}</p>"
            f"{notes}{versions}")


def records_html(info: dict[str, Any]) -> str:
    """Where every record of the data set went, from the worker's count ("" for runs that logged none)."""
    if not isinstance(info.get("records"), int):
        return ""
    head = f"<b>{info['records']:,}</b> records in the data set (data.format {esc(info.get('format', '?'))})"
    other = info.get("other_formats") or {}
    if other:
        kinds = ", ".join(f"{n:,} {esc(k)}" for k, n in other.items())
        return (f"<p id=\"data-records\" class=\"problem\">{head}: {sum(other.values()):,} are of another format "
                f"({kinds}), so the run was refused before training.</p>")
    invalid, empty = info.get("dropped_invalid", 0), info.get("dropped_empty", 0)
    return (f"<p id=\"data-records\">{head}: <b>{info.get('trained_records', 0):,}</b> trained "
            f"({info.get('chat_records', 0):,} chat, {info.get('text_records', 0):,} text), "
            f"<b>{invalid + empty:,}</b> dropped ({invalid:,} fit no format, {empty:,} had nothing left to learn "
            f"after truncation).</p>")


def data_html(data: ReportData) -> str:
    info = data.data_info
    split = records_html(info) + facts((k.replace("_", " "), esc(f"{v:,}" if isinstance(v, int) else v))
                                       for k, v in info.items() if not isinstance(v, dict)) \
        if info else "<p class=\"missing\">The run logged no data summary (it stopped before reading its data).</p>"
    sources = "".join(source_html(s) for s in data.sources) or "<p class=\"missing\">The recipe names no data set.</p>"
    return f"<section id=\"data\"><h2>Data</h2><h3>As the run read it</h3>{split}{sources}</section>"


def recipe_html(data: ReportData) -> str:
    problem = (f"<p class=\"problem\">This recipe does not load in this version of the studio; it is shown as "
               f"written. {esc(data.recipe_problem)}</p>" if data.recipe_problem else "")
    return (f"<section id=\"recipe\"><h2>Recipe</h2><p class=\"note\"><code>{esc(data.run.folder / 'recipe.yaml')}"
            f"</code></p>{problem}<pre id=\"recipe-yaml\">{esc(data.recipe_yaml)}</pre></section>")


def figures_html(run_id: str, c: Curves) -> list[str]:
    """The loss (train raw and smoothed, eval) and learning-rate figures; plotly.js goes in with the first only."""
    from studio.train.plots import loss_figure, metric_figure

    figures = []
    if len(c.loss) or len(c.eval_loss):
        figures.append(("loss", loss_figure([(run_id, c)], smoothing=DEFAULT_SMOOTHING)))
    if len(c.learning_rate):
        figures.append(("lr", metric_figure([("learning rate", c.learning_rate)], "Learning rate", "learning rate")))
    return [fig.to_html(include_plotlyjs=i == 0, full_html=False, div_id=f"report-{key}-plot", config=PLOT_CONFIG)
            for i, (key, fig) in enumerate(figures)]


def alert_line(event: dict) -> str:
    advice = "".join(f"<br>try: {esc(a)}" for a in event.get("advice") or [])
    return (f"<li>step {esc(event.get('step', '—'))} · <code>{esc(event.get('alert', 'alert'))}</code> · "
            f"{esc(event.get('message', ''))}{advice}</li>")


def curves_html(data: ReportData) -> str:
    plots = figures_html(data.run.run_id, data.curves)
    body = "".join(plots) if plots else "<p class=\"missing\">No training step was logged, so there is no curve.</p>"
    steps = ("" if not data.curves.resumes else
             f"<p class=\"note\">resumed from step {', '.join(map(str, data.curves.resumes))}</p>")
    alerts = "".join(alert_line(e) for e in data.alerts)
    alerts = f"<h3>Alerts</h3><ul>{alerts}</ul>" if alerts else "<p>No alerts during training.</p>"
    return f"<section id=\"curves\"><h2>Training curves</h2>{body}{steps}{alerts}</section>"


def memory_html(memory: Memory) -> str:
    est, got = memory.estimated_gib, memory.measured_gib
    ratio = f"{got / est:.2f}×" if est and got is not None else "—"
    note = ("The run trained on the CPU: the measured figure is the worker's peak resident memory (weights, data, "
            "Python), which the GPU memory estimate does not model." if memory.device == "cpu" else
            "Measured: the largest CUDA memory the worker allocated (PyTorch's max_memory_allocated).")
    rows = facts([("estimated peak (GiB)", num(est, ".2f") if est is not None else
                   "— (no estimate: the model's config was not available to the estimator)"),
                  ("measured peak (GiB)", num(got, ".2f") if got is not None else "— (not measured yet)"),
                  ("measured / estimated", ratio), ("device", esc(memory.device or "—"))])
    return f"<section id=\"memory\"><h2>Memory</h2>{rows}<p class=\"note\">{note}</p></section>"


EVAL_HEADERS = ("model", "prompts", "JSON valid", "schema valid", "exact match", "ROUGE-L", "ref. perplexity",
                "mean latency (s)", "output tokens", "cut off")


def evaluation_html(e: Evaluation) -> str:
    rows, classes = [], []
    for name, m in e.models.items():
        mine = name in e.run_models
        rows.append([esc(name) + (" (this run)" if mine else ""), esc(m.get("n", "—")), pct(m.get("json_valid_rate")),
                     pct(m.get("schema_valid_rate")), pct(m.get("exact_match")), num(m.get("rouge_l"), ".3f"),
                     num(m.get("perplexity"), ".4g"), num(m.get("mean_latency_s"), ".2f"),
                     num(m.get("mean_output_tokens"), ".1f"), pct(m.get("cut_off_rate"))])
        classes.append("mine" if mine else "")
    done = f"{e.n_evaluated}/{e.n_prompts} prompts" + ("" if e.complete else " (stopped early)")
    where = f" · prompt set <code>{esc(e.prompts)}</code>" if e.prompts else ""
    limit = f" · at most {esc(e.max_new_tokens)} new tokens" if e.max_new_tokens else ""
    return (f"<h3>{when(e.saved)}</h3><p>{done}{where}{limit} · <code>{esc(e.path)}</code></p>"
            + table(EVAL_HEADERS, rows, classes, numeric=range(1, len(EVAL_HEADERS))))


def evaluations_html(data: ReportData) -> str:
    if not data.evaluations:
        body = (f"<p class=\"missing\">No batch evaluation saved in <code>{esc(data.workspace / 'reports' / 'eval')}"
                f"</code> includes this run's adapter. Run one in the Compare tab (Batch evaluation) or with "
                f"<code>python -m studio eval --adapter {esc(data.run.run_id)}=PATH --prompts FILE.jsonl --out "
                f"WORKSPACE/reports/eval/NAME/results.json</code>.</p>")
    else:
        body = ("<p class=\"note\">Rates are over the prompts where they apply (schema validity over prompts with a "
                "schema, exact match and ROUGE-L over prompts with a reference); perplexity is of the references. "
                "Newest first.</p>" + "".join(evaluation_html(e) for e in data.evaluations))
    return f"<section id=\"evaluation\"><h2>Evaluation</h2>{body}</section>"


def answer_html(title: str, output: dict | None) -> str:
    if output is None:
        return f"<div><h4>{title}</h4><p class=\"missing\">the base model was not run in this evaluation</p></div>"
    marks = [f"JSON {'valid' if output.get('json_valid') else 'not valid'}"]
    if output.get("rouge_l") is not None:
        marks.append(f"ROUGE-L {num(output['rouge_l'], '.3f')}")
    if output.get("exact_match") is not None:
        marks.append("exact match" if output["exact_match"] else "not an exact match")
    return (f"<div><h4>{title}</h4><pre>{esc(output.get('text', ''))}</pre>"
            f"<p class=\"note\">{esc(' · '.join(marks))}</p></div>")


def examples_html(examples: ExampleSet | None, wanted: int) -> str:
    if not wanted:
        return "<section id=\"examples\"><h2>Examples</h2><p class=\"note\">Examples were not asked for.</p></section>"
    if examples is None or not examples.examples:
        why = ("no evaluation includes this run's adapter" if examples is None else
               "the evaluation has no answer of this run's adapter")
        return f"<section id=\"examples\"><h2>Examples</h2><p class=\"missing\">No examples: {why}.</p></section>"
    blocks = "".join(
        f"<div class=\"example\"><p><b>{esc(x.id)}</b></p><h4>Prompt</h4><pre class=\"prompt\">{esc(x.prompt)}</pre>"
        + (f"<h4>Reference</h4><pre>{esc(x.reference)}</pre>" if x.reference else "")
        + f"<div class=\"pair\">{answer_html('Base', x.base)}{answer_html(esc(examples.adapter), x.adapter)}"
        + "</div></div>" for x in examples.examples)
    return (f"<section id=\"examples\"><h2>Examples</h2><p class=\"note\">The first {len(examples.examples)} of "
            f"{examples.available} prompts of <code>{esc(examples.evaluation)}</code>, in the prompt set's order "
            f"(not picked for how they went).</p>{blocks}</section>")


VOTE_HEADERS = ("this run's adapter", "against", "votes", "wins", "losses", "ties", "both bad", "win rate",
                "95% interval (Wilson)")


def votes_html(votes: VoteSummary) -> str:
    problems = (f"<p class=\"problem\">{len(votes.problems)} line(s) of the votes file are not votes and were "
                f"skipped.</p>" if votes.problems else "")
    if not votes.tallies:
        return (f"<section id=\"votes\"><h2>Blind votes</h2><p class=\"missing\">No blind votes involve this run's "
                f"adapter ({votes.all_votes} votes in <code>{esc(votes.path)}</code>). Vote in the Compare tab "
                f"(Blind A/B).</p>{problems}</section>")
    rows = []
    for t in votes.tallies:
        low_high = t.interval
        rows.append([esc(t.model), esc(t.opponent), str(t.votes), str(t.wins), str(t.losses), str(t.ties),
                     str(t.both_bad), pct(t.win_rate),
                     f"{pct(low_high[0])} – {pct(low_high[1])}" if low_high else "—"])
    side = (f" Side A got {pct(votes.side_a_share)} of the decisive votes (near 50% when voters had no side "
            f"preference)." if votes.side_a_share is not None else "")
    return (f"<section id=\"votes\"><h2>Blind votes</h2>" + table(VOTE_HEADERS, rows, numeric=range(2, 9))
            + f"<p class=\"note\">{votes.votes} votes involve this run, of {votes.all_votes} in "
              f"<code>{esc(votes.path)}</code>. Win rate = wins / (wins + losses); ties and “both bad” are counted "
              f"but left out of the rate.{side}</p>{problems}</section>")


def render_html(data: ReportData) -> str:
    run = data.run
    footer = (f"<footer>Made by Fine-Tune Studio on {when(data.generated)} from <code>{esc(run.folder)}</code> "
              f"and the workspace <code>{esc(data.workspace)}</code>. Everything is in this file: it opens "
              f"offline.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Training report: {esc(run.run_id)}</title><style>{CSS}</style></head><body><main>"
            + header_html(run) + data_html(data) + recipe_html(data) + curves_html(data)
            + memory_html(data.memory) + evaluations_html(data) + examples_html(data.examples, data.n_examples)
            + votes_html(data.votes) + footer + "</main></body></html>\n")
