"""The Compare tab's work paths in-process, on the tiny model and adapters laid out as runs in a workspace."""

from __future__ import annotations

import json
import zipfile

import pytest

from studio.chat.sources import find_adapter, list_adapters
from studio.train.events import write_status
from studio.ui import compare_batch, compare_chat
from studio.ui.compare_engine import EngineHolder
from studio.workspace import Workspace
from tests.chat.conftest import make_adapter


def no_progress(*args, **kwargs) -> None:
    return None


@pytest.fixture(scope="module")
def holder(tiny_model_dir, tmp_path_factory):
    """A workspace with one run of the tiny model: a final adapter and two checkpoints."""
    ws = Workspace.open(tmp_path_factory.mktemp("ws"))
    run = ws.runs / "20260101-000000-tiny"
    for folder, seed in ((run / "adapter", 1), (run / "checkpoints" / "checkpoint-5", 2),
                         (run / "checkpoints" / "checkpoint-10", 3)):
        make_adapter(tiny_model_dir, folder, ["q_proj", "v_proj"], seed=seed)
    write_status(run, model=str(tiny_model_dir), state="finished")
    return EngineHolder(ws, str(tiny_model_dir))


def test_runs_adapters_and_checkpoints_are_offered_by_name(holder):
    names = [s.name for s in list_adapters(holder.ws)]
    assert names == ["20260101-000000-tiny", "20260101-000000-tiny@checkpoint-10",
                     "20260101-000000-tiny@checkpoint-5"]
    assert holder.choices() == ["base", *names]
    assert find_adapter(holder.ws, names[2]).step == 5
    with pytest.raises(FileNotFoundError, match="no adapter named"):
        find_adapter(holder.ws, "nope")


def test_side_by_side_streams_every_pane_and_marks_differences(holder, monkeypatch):
    monkeypatch.setattr(compare_chat, "FRAME_S", 0.0)  # a redraw per token
    flag = compare_chat.new_stop_flag()
    run = "20260101-000000-tiny"
    updates = list(compare_chat.send(holder, flag, "hello there", "", 12, 0.0, 1.0, 0, 2, "base", run, None, None,
                                     [], [], [], []))
    last = updates[-1]
    chats, stats, diffs = last[:4], last[4:8], last[8:]
    answers = [chats[i][-1]["content"] for i in (0, 1)]
    assert chats[0][-2] == {"role": "user", "content": "hello there"} and answers[1]
    assert answers[0] != answers[1]  # the adapter changes the answer
    assert "tok/s" in stats[1] and "<mark>" in diffs[1]
    assert len(updates) > 3  # streamed, not one final update
    # A second turn keeps each pane's own history.
    again = list(compare_chat.send(holder, flag, "and again", "", 4, 0.0, 1.0, 0, 2, "base", run, None, None,
                                   chats[0], chats[1], [], []))[-1]
    assert len(again[0]) == 4 and again[0][0]["content"] == "hello there"


def test_batch_evaluation_writes_results_and_ranks_examples(holder, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": p, "reference": '{"a": 1}'}) + "\n" for p in ("hi", "yo")),
                       encoding="utf-8")
    flag = compare_chat.new_stop_flag()
    results, headline, summary, examples, results_file, _ = compare_batch.run_batch(
        holder, flag, "", str(prompts), ["base", "20260101-000000-tiny"], 6, progress=no_progress)
    assert results["n_evaluated"] == 2 and "2/2 prompts" in headline
    assert [row[0] for row in summary["value"]] == ["base", "20260101-000000-tiny"]
    assert examples["headers"][2] == "Δ rouge_l" and len(examples["value"]) == 2
    saved = json.loads(open(results_file["value"], encoding="utf-8").read())
    assert set(saved["models"]) == {"base", "20260101-000000-tiny"}


def test_checkpoint_timeline_answers_at_every_checkpoint(holder):
    grid = compare_batch.timeline(holder, "20260101-000000-tiny", "hi\nhow are you", 4, progress=no_progress)
    assert grid["headers"] == ["prompt", "base", "step 5", "step 10", "final"]
    assert len(grid["value"]) == 2 and all(len(row) == 5 for row in grid["value"])


def test_export_zips_and_merges_an_adapter(holder):
    archive = compare_batch.zip_adapter(holder, "20260101-000000-tiny")["value"]
    assert "adapter_config.json" in zipfile.ZipFile(archive).namelist()
    message = compare_batch.merge(holder, "20260101-000000-tiny@checkpoint-5", progress=no_progress)
    merged = holder.ws.root / "exports" / "20260101-000000-tiny-checkpoint-5-merged"
    assert str(merged) in message and (merged / "config.json").is_file()


def test_generation_leaves_half_the_cores_to_a_training_run(tmp_path):
    from studio.train.events import write_status
    from studio.ui.compare_engine import generation_threads, training_now
    from studio.workspace import Workspace

    assert generation_threads(2, training=False) == 2
    assert generation_threads(2, training=True) == 1
    assert generation_threads(16, training=True) == 8
    assert generation_threads(1, training=True) == 1
    ws = Workspace.open(tmp_path / "ws")
    assert not training_now(ws)
    (ws.runs / "r1").mkdir()
    write_status(ws.runs / "r1", state="finished")
    assert not training_now(ws)
    write_status(ws.runs / "r1", state="running")
    assert training_now(ws)


# Every input a page can send: a control in a closed accordion or a sub-tab not shown yet reaches a handler as None,
# an emptied number box too. Each handler must answer with the defaults its controls show, or refuse in words.

RUN = "20260101-000000-tiny"


def test_side_by_side_answers_when_the_sampling_panel_was_never_opened(holder):
    flag = compare_chat.new_stop_flag()
    unopened = list(compare_chat.send(holder, flag, "hello there", None, None, None, None, None, 2, "base", RUN,
                                      None, None, None, None, None, None))[-1]
    shown = list(compare_chat.send(holder, flag, "hello there", "", 128, 0.0, 1.0, 0, 2, "base", RUN, None, None,
                                   [], [], [], []))[-1]
    answers = [unopened[i][-1]["content"] for i in (0, 1)]
    assert answers[1] and answers == [shown[i][-1]["content"] for i in (0, 1)]  # the defaults the panel shows
    assert "tok/s" in unopened[4] and "tok/s" in unopened[5]


def test_streaming_redraws_at_most_once_a_frame_and_ends_with_every_answer(holder, monkeypatch):
    monkeypatch.setattr(compare_chat, "FRAME_S", 0.0)
    per_token = list(compare_chat.send(holder, compare_chat.new_stop_flag(), "hello there", "", 24, 0.0, 1.0, 0, 2,
                                       "base", RUN, None, None, [], [], [], []))
    monkeypatch.setattr(compare_chat, "FRAME_S", 3600.0)
    framed = list(compare_chat.send(holder, compare_chat.new_stop_flag(), "hello there", "", 24, 0.0, 1.0, 0, 2,
                                    "base", RUN, None, None, [], [], [], []))
    assert len(framed) == 2 < len(per_token)  # the first token's frame, then the finished panes
    assert framed[-1][:4] == per_token[-1][:4]  # the same whole answers in every pane (greedy)


def test_refusals_are_messages_not_tracebacks(holder):
    import gradio as gr

    from studio.ui import compare_arena

    flag, state = compare_chat.new_stop_flag(), compare_arena.Round()
    refused = [
        (lambda: next(compare_chat.send(holder, flag, None, None, None, None, None, None, None, *[None] * 8)),
         "Type a prompt first"),
        (lambda: next(compare_chat.send(holder, flag, "hi", None, None, None, None, None, 2, "base", None,
                                        *[None] * 6)), "Choose a model for every pane"),
        (lambda: compare_arena.generate(holder, state, None, None, None, None, None), "two different models"),
        (lambda: compare_arena.vote(holder, state, "A"), "Generate a pair of answers first"),
        (lambda: compare_batch.run_batch(holder, flag, None, None, None, None, progress=no_progress),
         "Tick at least one model"),
        (lambda: compare_batch.timeline(holder, None, None, None, progress=no_progress), "Pick a run first"),
        (lambda: compare_batch.timeline(holder, RUN, None, None, progress=no_progress), "one prompt per line"),
        (lambda: compare_batch.merge(holder, None, progress=no_progress), "Pick an adapter first"),
        (lambda: compare_batch.zip_adapter(holder, None), "Pick an adapter first"),
        (lambda: compare_batch.run_report(holder, None), "Pick an adapter first"),
        (lambda: compare_batch.zip_adapter(holder, "20250101-000000-deleted"), "no adapter named"),
    ]
    for call, message in refused:
        with pytest.raises(gr.Error, match=message) as caught:
            call()
        assert caught.value.print_exception is False, message  # the server log keeps tracebacks for faults


def test_blind_pair_evaluation_and_timeline_take_none_for_their_optional_fields(holder, tmp_path):
    from studio.ui import compare_arena

    state = compare_arena.Round()
    state, answer_a, answer_b, message, _ = compare_arena.generate(holder, state, "base", RUN, None, "hi", None)
    assert answer_a + answer_b and "Vote" in message  # the tiny random base may answer nothing at all
    assert state.pending["messages"] == [{"role": "user", "content": "hi"}]  # no system prompt given: none stored
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"prompt": "hi", "reference": "x"}) + "\n", encoding="utf-8")
    results, headline, *_ = compare_batch.run_batch(holder, compare_chat.new_stop_flag(), None, str(prompts),
                                                    ("base",), None, progress=no_progress)
    assert "1/1 prompts" in headline and results["models"]["base"]["n"] == 1
    assert compare_batch.prompt_file(None, None).name == "intent_eval.jsonl"  # the one set the list offers
    grid = compare_batch.timeline(holder, RUN, "hi", None, progress=no_progress)
    assert grid["headers"][:2] == ["prompt", "base"] and len(grid["value"]) == 1
