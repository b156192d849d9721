"""Compare tab: batch evaluation on a prompt set, the checkpoint timeline of a run, and export of adapters.

The work is `studio.evaluate` (metrics, the batch loop, merging); this module only lays it out. Results are written
under WORKSPACE/reports/eval/ so a figure shown here can be reopened and reproduced with `python -m studio eval`.
"""

from __future__ import annotations

import functools
import shutil
import time
from pathlib import Path

import gradio as gr

from studio.assets import resolve_bundled
from studio.chat.sources import AdapterSource, find_adapter, list_adapters
from studio.evaluate import batch
from studio.evaluate.prompts import read_prompts
from studio.ui import compare_inputs as given
from studio.ui import i18n
from studio.ui.compare_chat import StopFlag, new_stop_flag
from studio.ui.compare_engine import BASE, EngineHolder
from studio.ui.compare_lists import ADAPTER, RUN, TICKS, ModelLists
from studio.ui.i18n import tr
from studio.workspace import atomic_write_text, safe_name

BUNDLED_PROMPTS = "bundled:intent_eval"
SUMMARY_HEADERS = ["model", "prompts", "JSON valid", "schema valid", "exact match", "ROUGE-L", "ref. perplexity",
                   "output tokens", "latency s"]
TIMELINE_PROMPTS = 3
EVAL_MAX_NEW, TIMELINE_MAX_NEW = 64, 48  # tokens per answer, as the two "Max new tokens" boxes start


def _pct(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def summary_rows(results: dict) -> list[list]:
    return [[name, m["n"], _pct(m["json_valid_rate"]), _pct(m["schema_valid_rate"]), _pct(m["exact_match"]),
             _num(m["rouge_l"]), _num(m["perplexity"]), _num(m["mean_output_tokens"]), _num(m["mean_latency_s"])]
            for name, m in results["models"].items()]


def example_rows(results: dict, model: str | None, metric: str) -> tuple[list[str], list[list]]:
    """Per-prompt rows: biggest wins of `model` over base first (when both ran), else in prompt order; the column
    names are in the current language, model names as they are."""
    names = list(results["models"])
    if model and model != BASE and BASE in names and model in names:
        ranked = batch.rank_examples(results, model, BASE, metric)
        headers = [tr("id"), tr("prompt"), f"Δ {metric}", f"{model}", BASE]
        return headers, [[r["id"], r["prompt"], f"{r['delta']:+.3f}", r["output"], r["against_output"]]
                         for r in ranked]
    headers = [tr("id"), tr("prompt"), tr("reference"), *names]
    return headers, [[e["id"], e["prompt"], e["reference"] or "", *(e["outputs"][n]["text"] for n in names)]
                     for e in results["examples"]]


def prompt_file(choice, upload) -> Path:
    """The uploaded prompt set, else the bundled one picked (the only one offered when nothing is picked)."""
    upload = given.name(upload)  # a gr.File in filepath mode sends a path or None
    return Path(upload) if upload else resolve_bundled(given.name(choice) or BUNDLED_PROMPTS)


def run_batch(holder: EngineHolder, flag: StopFlag, choice, upload, models, max_new, progress=gr.Progress()):
    models = given.names(models)
    if not models:
        raise given.refusal(tr("Tick at least one model."))
    settings = given.sampling(None, max_new, None, None, None, max_new_default=EVAL_MAX_NEW)
    try:
        prompts = read_prompts(prompt_file(choice, upload))
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise given.refusal(str(exc)) from None
    if not prompts.prompts:
        problems = "; ".join(f"{i.file} {i.where}: {i.message}" for i in prompts.issues[:3])
        raise given.refusal(tr("No usable prompt in the file.") + f" {problems}")
    try:
        engine = holder.engine([m for m in models if m != BASE])
    except (FileNotFoundError, ValueError) as exc:
        raise given.refusal(str(exc)) from None
    flag.event.clear()
    results = batch.evaluate(engine, models, prompts.prompts, settings,
                             progress=lambda f, m: progress(f, desc=m), stop=flag.event)
    folder = holder.ws.reports / "eval" / time.strftime("%Y%m%d-%H%M%S")
    batch.write_results(folder / "results.json", results)
    atomic_write_text(folder / "summary.csv", batch.summary_csv(results))
    atomic_write_text(folder / "examples.csv", batch.examples_csv(results))
    stopped = "" if results["complete"] else " " + tr("(stopped early)")
    skipped = " · " + tr("{n} line(s) of the file skipped", n=len(prompts.issues)) if prompts.issues else ""
    headline = (tr("{done}/{total} prompts in {seconds:.0f} s", done=results["n_evaluated"],
                   total=results["n_prompts"], seconds=results["seconds"])
                + stopped + skipped + " · " + tr("saved in `{folder}`", folder=folder))
    headers, rows = example_rows(results, next((m for m in models if m != BASE), None), "rouge_l")
    return (results, headline, i18n.table(SUMMARY_HEADERS, summary_rows(results)),
            gr.update(value=rows, headers=headers),
            gr.update(value=str(folder / "results.json"), visible=True),
            gr.update(value=str(folder / "examples.csv"), visible=True))


def timeline(holder: EngineHolder, run_id, prompts_text, max_new, progress=gr.Progress()):
    """The same prompts answered by base and every saved checkpoint of a run (and its final adapter), as a grid."""
    run_id = given.name(run_id)
    if not run_id:
        raise given.refusal(tr("Pick a run first: the list holds the runs that saved an adapter or a checkpoint."))
    sources = [s for s in list_adapters(holder.ws) if s.run_id == run_id]
    if not sources:
        raise given.refusal(tr("{run} has no saved adapter or checkpoint yet.", run=run_id))
    ordered = sorted(sources, key=lambda s: (s.step is None, s.step or 0))
    names = [BASE] + [s.name for s in ordered]
    prompts = [line.strip() for line in given.text(prompts_text).splitlines() if line.strip()]
    if not prompts:
        raise given.refusal(tr("Give one prompt per line."))
    settings = given.sampling(None, max_new, None, None, None, max_new_default=TIMELINE_MAX_NEW)
    try:
        engine = holder.engine(names[1:])
    except (FileNotFoundError, ValueError) as exc:
        raise given.refusal(str(exc)) from None
    rows = []
    for i, prompt in enumerate(prompts):
        row = [prompt]
        for j, name in enumerate(names):
            progress((i * len(names) + j) / (len(prompts) * len(names)),
                     desc=tr("{model}: prompt {n}", model=name, n=i + 1))
            row.append(engine.generate(name, [{"role": "user", "content": prompt}], settings))
        rows.append(row)
    headers = [tr("prompt"), BASE] + [tr("step {n}", n=s.step) if s.step is not None else tr("final")
                                      for s in ordered]
    return gr.update(value=rows, headers=headers)


def picked_adapter(holder: EngineHolder, name) -> AdapterSource:
    """The adapter Export's list shows; nothing picked, or one deleted since, is refused with what to do."""
    name = given.name(name)
    if not name:
        raise given.refusal(tr("Pick an adapter first.") if list_adapters(holder.ws) else
                            tr("No adapter in this workspace yet: a run saves one when it finishes or is stopped."))
    try:
        return find_adapter(holder.ws, name)
    except FileNotFoundError as exc:
        raise given.refusal(str(exc)) from None


def merge(holder: EngineHolder, name, progress=gr.Progress()) -> str:
    from studio.evaluate.merge import MergeError, merge_adapter

    source = picked_adapter(holder, name)
    out = holder.ws.root / "exports" / f"{safe_name(source.name.replace('@', '-'))}-merged"
    progress(0.1, desc=tr("loading the base and the adapter"))
    try:
        merge_adapter(holder.model, source.path, out)
    except (MergeError, FileNotFoundError, ValueError) as exc:
        raise given.refusal(str(exc)) from None
    return tr("Merged **{name}** into the base: a standard model folder at `{folder}` (load it with "
              "from_pretrained).", name=source.name, folder=out)


def zip_adapter(holder: EngineHolder, name):
    source = picked_adapter(holder, name)
    target = holder.ws.root / "exports" / safe_name(source.name.replace("@", "-"))
    target.parent.mkdir(parents=True, exist_ok=True)
    archive = shutil.make_archive(str(target), "zip", root_dir=source.path)
    return gr.update(value=archive, visible=True)


def run_report(holder: EngineHolder, name):
    """The stakeholder report of the run the picked adapter (or checkpoint) comes from, offered to download."""
    from studio.report.collect import ReportError
    from studio.report.report_command import write_run_report

    source = picked_adapter(holder, name)
    try:
        path = write_run_report(holder.ws, source.run_id)
    except (ReportError, FileNotFoundError, OSError) as exc:
        raise given.refusal(str(exc)) from None
    return gr.update(value=str(path), visible=True)


def build(holder: EngineHolder, lists: ModelLists) -> None:
    with gr.Tab("Batch evaluation"):
        with gr.Row():
            prompt_choice = gr.Dropdown([BUNDLED_PROMPTS], value=BUNDLED_PROMPTS, label="Prompt set", scale=2)
            upload = gr.File(label="…or a JSONL prompt set (prompt or messages, reference, json_schema)",
                             file_types=[".jsonl"], type="filepath", scale=2, elem_id="eval-upload")
        with gr.Row():
            models = lists.add(gr.CheckboxGroup(lists.offered(TICKS), value=lists.default(TICKS), label="Models",
                                                scale=3, elem_id="eval-models"), TICKS)
            max_new = gr.Number(EVAL_MAX_NEW, label="Max new tokens", precision=0, minimum=1, maximum=4096, scale=1)
        with gr.Row():
            go = gr.Button("Evaluate", variant="primary", elem_id="eval-run")
            stop = gr.Button("Stop after the current prompt", elem_id="eval-stop")
            lists.buttons.append(gr.Button("Refresh adapters", elem_id="eval-refresh"))
        headline = gr.Markdown(elem_id="eval-headline")
        summary = gr.Dataframe(headers=SUMMARY_HEADERS, interactive=False, elem_id="eval-summary")
        examples = gr.Dataframe(interactive=False, wrap=True, max_height=420, elem_id="eval-examples",
                                label="Per prompt (biggest wins of the first adapter over base first)")
        with gr.Row():
            results_file = gr.DownloadButton("Results (JSON)", visible=False)
            examples_file = gr.DownloadButton("Per prompt (CSV)", visible=False)
        results = gr.State()
        flag = gr.State(new_stop_flag)
        go.click(functools.partial(run_batch, holder), [flag, prompt_choice, upload, models, max_new],
                 [results, headline, summary, examples, results_file, examples_file])
        stop.click(lambda f: f.event.set(), flag, None)
        i18n.retitle_on_switch(summary, SUMMARY_HEADERS)
    with gr.Tab("Checkpoint timeline"):
        with gr.Row():
            run = lists.add(gr.Dropdown(lists.offered(RUN), value=lists.default(RUN), label="Run",
                                        elem_id="timeline-run", scale=3), RUN)
            lists.buttons.append(gr.Button("Refresh runs", scale=1))
        prompts = gr.Textbox(_default_prompts(), lines=TIMELINE_PROMPTS, label="Prompts (one per line)")
        t_max = gr.Number(TIMELINE_MAX_NEW, label="Max new tokens", precision=0, minimum=1, maximum=1024)
        t_go = gr.Button("Answer at every checkpoint", variant="primary", elem_id="timeline-run-button")
        grid = gr.Dataframe(interactive=False, wrap=True, elem_id="timeline-grid")
        t_go.click(functools.partial(timeline, holder), [run, prompts, t_max], grid)
    with gr.Tab("Export"):
        pick = lists.add(gr.Dropdown(lists.offered(ADAPTER), value=lists.default(ADAPTER), label="Adapter",
                                     elem_id="export-pick"), ADAPTER)
        with gr.Row():
            merge_button = gr.Button("Merge into the base and save a model folder", elem_id="export-merge")
            zip_button = gr.Button("Zip the adapter", elem_id="export-zip")
            zip_file = gr.DownloadButton("Download the zip", visible=False, elem_id="export-download")
            lists.buttons.append(gr.Button("Refresh adapters", elem_id="export-refresh"))
        with gr.Row():
            report_button = gr.Button("Create the report of this adapter's run", elem_id="export-report")
            report_file = gr.DownloadButton("Download report", visible=False, elem_id="export-report-download")
        merged = gr.Markdown(elem_id="export-message")
        merge_button.click(functools.partial(merge, holder), pick, merged)
        zip_button.click(functools.partial(zip_adapter, holder), pick, zip_file)
        report_button.click(functools.partial(run_report, holder), pick, report_file)
        pick.change(lambda: gr.update(visible=False), None, report_file, show_progress="hidden")


def _default_prompts() -> str:
    prompts = read_prompts(resolve_bundled(BUNDLED_PROMPTS)).prompts[:TIMELINE_PROMPTS]
    return "\n".join(p.text for p in prompts)

