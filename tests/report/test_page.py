"""The report of a hand-written run: every section with its figures, missing pieces said, everything escaped."""

from __future__ import annotations

import json
import re

from studio.evaluate.votes import Vote, append_vote, votes_path
from studio.report.collect import collect_report
from studio.report.page import render_html
from tests.report.conftest import EVIL, RUN_ID, model_figures, write_eval

SECTION_IDS = ("run", "data", "recipe", "curves", "memory", "evaluation", "examples", "votes")


def report(ws, **kwargs) -> str:
    return render_html(collect_report(ws.runs / RUN_ID, **kwargs))


def section(page: str, name: str) -> str:
    match = re.search(rf'<(section|header) id="{name}">(.*?)</\1>', page, re.S)
    assert match, f"no section {name}"
    return match.group(2)


def test_every_section_with_its_figures(hand_workspace):
    page = report(hand_workspace)
    for name in SECTION_IDS:
        section(page, name)
    head = section(page, "run")
    assert f"<code>{RUN_ID}</code>" in head and "LoRA" in head and "finished" in head and "1 min 35 s" in head
    assert '<b id="final-eval-loss">2.247</b> (step 4)' in head and "first 3 (step 0)" in head
    data = section(page, "data")
    assert "docs@v2" in data and "made from <code>docs@v1</code> by <b>quality</b>, which removed 1" in data
    assert "no dedup report for this version" in data and "no perplexity report for this version" in data
    assert "exact duplicates</th><td>1</td>" in data and "1 (50.0%)" in data  # docs@v1's dedup.json
    assert "train tokens</th><td>900</td>" in data
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in section(page, "recipe")
    memory = section(page, "memory")
    assert "0.40" in memory and "0.50" in memory and "1.25×" in memory
    evaluation = section(page, "evaluation")
    assert evaluation.count("<h3>") == 1  # the evaluation without this run is not shown
    mine = re.search(r'<tr class="mine">(.*?)</tr>', evaluation).group(1)
    assert f"{RUN_ID} (this run)" in mine and "75.0%" in mine and "50.0%" in mine and "12.5" in mine
    votes = section(page, "votes")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", votes)
    assert cells[:9] == [RUN_ID, "base", "5", "2", "1", "1", "1", "66.7%", "20.8% – 93.9%"]
    assert "5 votes involve this run, of 6" in votes


def test_curves_are_inlined_plotly_with_the_library_once(hand_workspace):
    page = report(hand_workspace)
    curves = section(page, "curves")
    assert 'id="report-loss-plot"' in curves and 'id="report-lr-plot"' in curves
    assert page.count("Plotly.newPlot(") == 2 and page.count("* plotly.js v") == 1
    loss = json.loads(re.search(r'Plotly\.newPlot\(\s*"report-loss-plot",\s*(\[.*?\]),\s*\{', curves, re.S).group(1))
    eval_trace = next(t for t in loss if t["name"] == "eval loss")
    assert eval_trace["x"] == [0, 4] and eval_trace["y"] == [3.0, 2.2468]


def test_nothing_is_fetched_from_elsewhere(hand_workspace):
    page = report(hand_workspace)
    assert not re.search(r"<script[^>]+src=", page, re.I)
    assert not re.search(r"<link[^>]+href=", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I)
    assert not re.search(r"<(img|iframe)[^>]+src=", page, re.I) and "@import" not in page


def test_prompts_and_answers_are_escaped(hand_workspace):
    page = report(hand_workspace)
    examples = section(page, "examples")
    assert EVIL not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in examples
    assert examples.count('class="example"') == 4 and "The first 4 of 4 prompts" in examples
    assert "<pre>hmm 0</pre>" in examples and "<pre>{&quot;n&quot;: 0}</pre>" in examples
    assert page.count("<script>") == page.count("</script>")  # only plotly's own scripts
    assert "alert(" not in re.sub(r"<script>.*?</script>", "", page, flags=re.S).replace("alert(&#x27;", "")


def test_example_count_follows_the_option(hand_workspace):
    assert section(report(hand_workspace, n_examples=2), "examples").count('class="example"') == 2
    assert "Examples were not asked for" in section(report(hand_workspace, n_examples=0), "examples")


def test_missing_pieces_are_stated(ws):
    from tests.report.conftest import hand_run

    hand_run(ws)
    page = report(ws)
    assert "No batch evaluation saved in" in section(page, "evaluation")
    assert "No examples: no evaluation includes this run" in section(page, "examples")
    assert "No blind votes involve this run" in section(page, "votes")


def test_checkpoints_and_eval_command_paths_count_as_this_run(hand_workspace):
    ws = hand_workspace
    run = ws.runs / RUN_ID
    write_eval(ws, "20270101-000000", {"base": model_figures(0.0, 0.0), "mine": model_figures(1.0, 1.0),
                                       f"{RUN_ID}@checkpoint-2": model_figures(0.25, 0.0)}, ["q"],
               adapters={"mine": str(run / "adapter"), f"{RUN_ID}@checkpoint-2": "elsewhere"})
    import os

    os.utime(ws.reports / "eval" / "20270101-000000" / "results.json", (2e9, 2e9))  # the newest
    page = report(ws)
    evaluation = section(page, "evaluation")
    assert evaluation.count("<h3>") == 2 and evaluation.count('class="mine"') == 3
    assert "mine (this run)" in evaluation and f"{RUN_ID}@checkpoint-2 (this run)" in evaluation
    examples = section(page, "examples")
    assert "20270101-000000" in examples and "<h4>mine</h4>" in examples  # the final adapter's answers


def test_votes_between_two_adapters_read_from_this_run(hand_workspace):
    append_vote(votes_path(hand_workspace), Vote("p", "aaa-other", RUN_ID, "x", "y", "B"))
    votes = section(report(hand_workspace), "votes")
    rows = re.findall(r"<tr>(.*?)</tr>", votes.split("<tbody>")[1])
    other = next(r for r in rows if "aaa-other" in r)
    assert re.findall(r"<td[^>]*>(.*?)</td>", other)[:5] == [RUN_ID, "aaa-other", "1", "1", "0"]


def test_a_recipe_that_no_longer_loads_is_shown_as_written(hand_workspace):
    recipe = hand_workspace.runs / RUN_ID / "recipe.yaml"
    recipe.write_text(recipe.read_text() + "retired_option: 3\n", encoding="utf-8")
    page = report(hand_workspace)
    assert "does not load in this version" in section(page, "recipe") and "retired_option" in page
    assert "docs@v2" in section(page, "data")  # the data sources still come from the YAML


def test_a_resumed_run_spans_from_its_first_start_to_its_last_end(ws):
    from studio.report.page import when
    from studio.train.events import EventLog, write_status
    from tests.report.conftest import hand_run

    run = hand_run(ws)
    (run / "events.jsonl").unlink()
    end = 1_800_000_000.0
    first, second = end - 1000.0, end - 200.0
    log = EventLog(run)  # stopped at step 2, resumed from checkpoint-2 800 s later, finished at step 4
    log.write("status", state="starting", time=first)
    log.write("status", state="running", step=0, total=4, time=first + 5)
    for step in (1, 2):
        log.write("train", step=step, total=4, loss=3.0 - step * 0.3, time=first + 5 + step)
    log.write("status", state="stopped", step=2, time=first + 60)
    log.write("status", state="starting", time=second)
    log.write("status", state="resuming", checkpoint="checkpoint-2", resumed_from_step=2, time=second + 4)
    log.write("status", state="running", step=2, total=4, time=second + 5)
    for step in (3, 4):
        log.write("train", step=step, total=4, loss=3.0 - step * 0.3, time=second + 5 + step)
    log.write("status", state="finished", step=4, time=end)
    log.close()
    # As the worker leaves it: `started` is the last attempt's; training time was summed over both.
    write_status(run, started=second, ended=end, train_seconds=150.0)
    summary = collect_report(run).run
    assert (summary.started, summary.ended, summary.attempts, summary.resumed_from) == (first, end, 2, (2,))
    head = section(render_html(collect_report(run)), "run")
    assert f"started</th><td>{when(first)}</td>" in head and f"ended</th><td>{when(end)}</td>" in head
    assert "span</th><td>16 min 40 s</td>" in head  # 1000 s from the first start, the pause included
    assert "attempts</th><td>2 (resumed from step 2)</td>" in head
    assert "training time</th><td>2 min 30 s <span class=\"note\">summed over 2 attempts" in head
