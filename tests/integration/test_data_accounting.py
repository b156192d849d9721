"""Every record of a mixed data set accounted for by the real worker on a tiny model, with the numbers the Configure
tab shows and the report repeats: refused before the model loads under `messages`, trained whole under `auto`."""

from __future__ import annotations

import json
import re

import pytest

from studio.estimate.schedule import schedule_summary
from studio.recipe_io import load_recipe
from studio.train.events import read_status
from studio.workspace import Workspace
from tests.integration.conftest import run_worker, write_recipe

pytestmark = pytest.mark.slow

CHATS, TEXTS, BROKEN = 30, 10, 2


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> str:
    """Chats, text fragments and two lines that fit no format, in one file."""
    lines = [json.dumps({"messages": [{"role": "user", "content": f"How do I reset device {i}?"},
                                      {"role": "assistant", "content": f"Hold the button of device {i}."}]})
             for i in range(CHATS)]
    lines += [json.dumps({"text": f"Device {i} ships with a charger and a manual."}) for i in range(TEXTS)]
    lines += ["{not json", json.dumps({"note": "no known field"})]
    path = tmp_path_factory.mktemp("mixed") / "support.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def recipe_for(folder, model_dir, dataset: str, fmt: str):
    # One epoch, no max_steps: the step count itself is then a figure Configure and the worker must agree on.
    return write_recipe(folder, model_dir, data={"dataset": dataset, "format": fmt, "max_length": 64},
                        duration={"max_steps": None, "epochs": 1},
                        checkpoint={"logging_steps": 1, "eval_steps": 100, "save_steps": 100})


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory, tiny_model_dir, mixed):
    folder = tmp_path_factory.mktemp("auto")
    recipe = recipe_for(folder, tiny_model_dir, mixed, "auto")
    run = folder / "run"
    assert run_worker(recipe, run) == 0, (run / "worker.log").read_text()[-3000:]
    return recipe, run


def test_a_mixed_set_under_messages_is_refused_before_the_model_loads(tmp_path, tiny_model_dir, mixed):
    run = tmp_path / "run"
    assert run_worker(recipe_for(tmp_path, tiny_model_dir, mixed, "messages"), run) == 2  # bad input
    status = read_status(run)
    records = CHATS + TEXTS + BROKEN
    assert status["state"] == "failed"
    assert f"{TEXTS} of {records} records are not messages records ({TEXTS} text)" in status["error"]
    assert f"would train only {CHATS} of them" in status["error"]
    assert "set data.format to auto" in status["error"] and "split the data set" in status["error"]
    assert status["data"]["other_formats"] == {"text": TEXTS} and status["data"]["records"] == records
    assert "trainable_params" not in status and not (run / "checkpoints").exists()  # no model was built
    assert "model:" not in (run / "worker.log").read_text()


def test_auto_trains_every_record_with_the_counts_configure_shows(auto_run, tmp_path):
    from studio.ui.data_count import record_count

    recipe_path, run = auto_run
    status = read_status(run)
    data = status["data"]
    assert status["state"] == "finished"
    assert (data["records"], data["trained_records"], data["chat_records"], data["text_records"]) == \
        (CHATS + TEXTS + BROKEN, CHATS + TEXTS, CHATS, TEXTS)
    assert (data["dropped_invalid"], data["dropped_empty"]) == (BROKEN, 0)
    recipe = load_recipe(recipe_path)
    count = record_count(Workspace.open(tmp_path / "ws"), recipe)
    assert count.as_data().items() <= data.items()  # the same function's figures, key for key
    summary = schedule_summary(count.read, recipe)
    assert (summary["n_train"], summary["n_eval"], summary["total_steps"]) == \
        (data["train"], data["eval"], status["total_steps"])


def test_the_configure_summary_and_the_worker_log_say_the_same(auto_run, tmp_path):
    from studio.ui.configure import readouts

    recipe_path, run = auto_run
    status = read_status(run)
    text = readouts(Workspace.open(tmp_path / "ws"), load_recipe(recipe_path))[0].replace("**", "")
    shown = re.search(r"(\d+) examples → (\d+) train / (\d+) eval .* (\d+) steps in all", text)
    assert shown, text
    assert [int(x) for x in shown.groups()] == [status["data"]["trained_records"], status["data"]["train"],
                                                 status["data"]["eval"], status["total_steps"]]
    assert f"{BROKEN} of {CHATS + TEXTS + BROKEN} records dropped: they fit no format" in text
    log = (run / "worker.log").read_text()
    assert (f"records: {CHATS + TEXTS + BROKEN} in the data set, {CHATS + TEXTS} trained ({CHATS} chat, {TEXTS} "
            f"text), {BROKEN} dropped; {BROKEN} fit no format (the first: support.jsonl line {CHATS + TEXTS + 1}")\
        in log


def test_the_report_gives_the_same_counts(auto_run, tmp_path):
    from studio.report.collect import collect_report
    from studio.report.page import render_html

    _, run = auto_run
    data = read_status(run)["data"]
    report = collect_report(run, tmp_path / "ws", n_examples=0)
    assert {k: report.data_info[k] for k in data} == data
    section = render_html(report).split('<section id="data">')[1].split("</section>")[0]
    line = re.sub(r"<[^>]+>", "", section.split('id="data-records"')[1].split("</p>")[0])
    assert (f"{CHATS + TEXTS + BROKEN} records in the data set (data.format auto): {CHATS + TEXTS} trained "
            f"({CHATS} chat, {TEXTS} text), {BROKEN} dropped ({BROKEN} fit no format, 0 had nothing left to learn")\
        in line
