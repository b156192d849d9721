"""status.json and events.jsonl as written by one process and read by another."""

from __future__ import annotations

import json
import math

from studio.train.events import EventCursor, EventLog, log_tail, read_events, read_status, write_status


def test_status_merges_changes_and_an_empty_folder_has_none(tmp_path):
    assert read_status(tmp_path) == {}
    write_status(tmp_path, state="running", step=3)
    status = write_status(tmp_path, step=4)
    assert status["state"] == "running" and status["step"] == 4
    assert read_status(tmp_path)["step"] == 4 and "updated" in status


def test_events_are_read_incrementally_and_a_torn_last_line_waits_for_the_next_poll(tmp_path):
    log = EventLog(tmp_path)
    log.write("train", step=1, loss=2.0)
    cursor = read_events(tmp_path)
    assert [e["step"] for e in cursor.events] == [1]
    log.write("train", step=2, loss=math.nan)
    with open(tmp_path / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"kind": "train", "st')  # a writer caught mid-line
    cursor = read_events(tmp_path, cursor)
    assert [e["step"] for e in cursor.events] == [1, 2]
    assert cursor.events[1]["loss"] == "nan"  # JSON has no NaN; the UI still sees it
    with open(tmp_path / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write('ep": 3}\n')
    assert [e.get("step") for e in read_events(tmp_path, cursor).events] == [1, 2, 3]
    log.close()
    assert all(json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines())


def test_reading_a_missing_run_gives_nothing_not_an_error(tmp_path):
    assert read_events(tmp_path / "nope").events == []
    assert isinstance(read_events(tmp_path / "nope", EventCursor()), EventCursor)
    assert log_tail(tmp_path) == ""
    (tmp_path / "worker.log").write_text("x" * 10 + "end")
    assert log_tail(tmp_path, 3) == "end"
