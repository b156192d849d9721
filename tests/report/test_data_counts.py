"""The report's data section gives the worker's own count of the records: a run refused for its data says how many
records were of another format instead of "no data summary"."""

from __future__ import annotations

import re

from studio.report.collect import collect_report
from studio.report.page import render_html
from studio.train.events import EventLog, write_status


def test_a_run_refused_for_its_data_shows_the_count_from_its_status(ws):
    run = ws.runs / "20260101-000000-refused"
    run.mkdir(parents=True)
    (run / "recipe.yaml").write_text("name: refused\ndata:\n  dataset: mixed.jsonl\n  format: messages\n",
                                     encoding="utf-8")
    counted = {"format": "messages", "records": 80, "read": 60, "chat_records": 60, "text_records": 0,
               "dropped_invalid": 0, "other_formats": {"text": 20}}
    write_status(run, run_id=run.name, state="failed", error="20 of 80 records are not messages records", data=counted)
    log = EventLog(run)
    log.write("status", state="starting")
    log.write("status", state="failed", error="20 of 80 records are not messages records")
    log.close()
    data = collect_report(run, ws.root, n_examples=0)
    assert data.data_info == counted
    section = render_html(data).split('<section id="data">')[1].split("</section>")[0]
    line = re.sub(r"<[^>]+>", "", section)
    assert "80 records in the data set (data.format messages): 20 are of another format (20 text), so the run " \
           "was refused before training" in line
    assert "no data summary" not in line
