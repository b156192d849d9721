"""`python -m studio ppl`: the report, kept and removed files, bad input stopped with messages naming the record,
and the planted noisy documents of the bundled patents flagged by the bundled demo model."""

from __future__ import annotations

import argparse
import json
import statistics

import pytest

from studio.assets import PATENTS_FILE, PATENTS_MANIFEST
from studio.quality.buckets import BucketSettings
from studio.quality.perplexity import load_scorer, score_records
from studio.quality.ppl_command import configure_parser, run
from studio.quality.ppl_report import bucket_scores
from tests.quality.mixed_set import N_ALPACA, N_CHAT, N_TEXT, without_chat_template, write_mixed

ZH = ["一种基于上下文建模的图像无损压缩方法。", "本发明涉及数据压缩领域。", "计算像素预测值之前，应先确认行缓冲区处于正常状态。",
      "行缓冲区上设有7个定位孔，相邻定位孔的间距为2.4毫米。", "码流封装模块的输出经滤波后送入算术编码器。", "乱码ÒÖ´óÌå»ý»ìÄýÍÁ"]
EN = ["A method for lossless image compression.", "The invention relates to data compression.",
      "The buffer has seven holes spaced 2.4 mm apart.", "Before computing the prediction, check the buffer.",
      "The output is filtered and sent to the arithmetic coder.", "zq xv kkp wqj ttt rrr zzz"]


def _ppl(*argv: str) -> int:
    return run(configure_parser(argparse.ArgumentParser()).parse_args([str(a) for a in argv]))


def _write(path, rows) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def small_set(tmp_path):
    rows = [{"id": f"zh{i}", "text": t, "lang": "zh"} for i, t in enumerate(ZH)]
    rows += [{"id": f"en{i}", "text": t, "lang": "en", "page": i} for i, t in enumerate(EN)]
    return _write(tmp_path / "in.jsonl", rows), rows


def test_the_parser_has_the_issue_options():
    parser = configure_parser(argparse.ArgumentParser())
    args = parser.parse_args(["in.jsonl", "--report", "r.json"])
    assert vars(args) == {"input": "in.jsonl", "report": "r.json", "model": "bundled:demo-model", "out": None,
                          "removed": None, "field": "text", "chat_tokens": "assistant", "buckets": 5,
                          "trim_high": 0.02, "trim_low": 0.01, "batch_size": 8, "max_length": None,
                          "load_in_4bit": False}


def test_report_kept_and_removed(tmp_path, small_set, tiny_model_dir, capsys):
    path, rows = small_set
    report, kept, removed = tmp_path / "r.json", tmp_path / "kept.jsonl", tmp_path / "removed.jsonl"
    assert _ppl(path, "--report", report, "--model", tiny_model_dir, "--out", kept, "--removed", removed,
                "--buckets", "1", "--trim-high", "0.2", "--trim-low", "0.1", "--batch-size", "4") == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert set(data["records"]) == {r["id"] for r in rows}
    for info in data["records"].values():
        assert {"ppl", "nll_sum", "n_tokens", "bucket"} <= info.keys() and info["bucket"] in ("en/0", "zh/0")
    assert set(data["edges"]) == {"en", "zh"} and data["counts"]["scored"] == 12
    # six records per language: the top tail rounds 0.2 x 6 = 1.2 to 1, the bottom 0.1 x 6 = 0.6 to 1
    assert sorted((f["bucket"], f["tail"]) for f in data["flagged"]) == [("en/0", "high"), ("en/0", "low"),
                                                                        ("zh/0", "high"), ("zh/0", "low")]
    for bucket in data["buckets"]:
        assert bucket["high_threshold"] >= bucket["median_ppl"] >= bucket["low_threshold"]
    kept_rows = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    removed_rows = [json.loads(line) for line in removed.read_text(encoding="utf-8").splitlines()]
    assert len(kept_rows) + len(removed_rows) == len(rows)  # nothing lost
    assert [r["id"] for r in kept_rows] == [r["id"] for r in rows if r["id"] not in {x["id"] for x in removed_rows}]
    flagged = {f["id"]: f for f in data["flagged"]}
    for entry in removed_rows:
        assert entry["reason"] == {"high": "ppl_high", "low": "ppl_low"}[flagged[entry["id"]]["tail"]]
        assert entry["perplexity"] == data["records"][entry["id"]]["ppl"] and entry["bucket"] in ("en/0", "zh/0")
        assert entry["record"]["text"] == next(r["text"] for r in rows if r["id"] == entry["id"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "kept.jsonl", "r.json", "removed.jsonl"]
    assert "flagged high" in capsys.readouterr().out


def test_another_text_field_is_kept_under_its_own_name(tmp_path, tiny_model_dir):
    path = _write(tmp_path / "in.jsonl", [{"id": f"b{i}", "body": t} for i, t in enumerate(EN)])
    kept, removed = tmp_path / "k.jsonl", tmp_path / "rm.jsonl"
    assert _ppl(path, "--report", tmp_path / "r.json", "--model", tiny_model_dir, "--field", "body",
                "--out", kept, "--removed", removed) == 0
    rows = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(EN) and all("body" in r and "text" not in r for r in rows)
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["settings"]["grouping"] == "length" and list(data["edges"]) == ["all"]


@pytest.mark.parametrize("bad, message", [
    # "body" would be read as the text, as the Data tab reads it; a field no format knows is refused
    ({"id": "b", "note": "no text"}, "line 2: not a text record like the others: no text field"),
    ({"id": "b", "text": ""}, "line 2: field 'text' is empty"),
    ({"id": "b", "text": "   "}, "line 2: field 'text' is empty"),
    ({"id": "b", "text": ["a", "list"]}, "line 2: field 'text' holds list, not text"),
    ({"id": "b", "text": {"an": "object"}}, "line 2: field 'text' holds dict, not text"),
    ({"id": "b", "text": None}, "line 2: not a text record like the others: 'text' is null"),
    ("{not json", "line 2: not valid JSON"),
])
def test_bad_records_stop_the_run_naming_the_line(tmp_path, tiny_model_dir, capsys, bad, message):
    path = _write(tmp_path / "in.jsonl", [{"id": "a", "text": "fine"}, bad, {"id": "c", "text": "fine too"}])
    report = tmp_path / "r.json"
    assert _ppl(path, "--report", report, "--model", tiny_model_dir, "--out", tmp_path / "k.jsonl",
                "--removed", tmp_path / "rm.jsonl") == 2
    err = capsys.readouterr().err
    assert f"in.jsonl:{message}" in err and "nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_5_mb_record_is_named_before_the_model_loads(tmp_path, capsys):
    path = _write(tmp_path / "in.jsonl", [{"id": "small", "text": "fine"}, {"id": "big", "text": "x" * 5_000_000}])
    # the model does not exist: reaching the record check first proves nothing was loaded or scored
    assert _ppl(path, "--report", tmp_path / "r.json", "--model", tmp_path / "no-model") == 2
    err = capsys.readouterr().err
    assert "record 'big'" in err and "5,000,000 characters" in err and "studio chunk" in err
    assert not (tmp_path / "r.json").exists()


def test_numbers_in_the_text_field_are_scored_as_written(tmp_path, tiny_model_dir):
    # ingestion turns a number into its text; nothing is dropped
    path = _write(tmp_path / "in.jsonl", [{"id": "a", "text": "fine"}, {"id": "n", "text": 12345}])
    assert _ppl(path, "--report", tmp_path / "r.json", "--model", tiny_model_dir) == 0
    assert set(json.loads((tmp_path / "r.json").read_text())["records"]) == {"a", "n"}


@pytest.mark.parametrize("extra, message", [
    (["--out", "k.jsonl"], "--out and --removed go together"),
    (["--removed", "rm.jsonl"], "--out and --removed go together"),
    (["--trim-high", "0.7"], "--trim-high"),
    (["--trim-low", "-1"], "--trim-low"),
    (["--buckets", "0"], "--buckets"),
    (["--batch-size", "0"], "--batch-size"),
    (["--max-length", "100000"], "--max-length: 100000 tokens; must be between 2 and the model's context (512"),
])
def test_bad_arguments_exit_2_with_the_option_named(tmp_path, small_set, tiny_model_dir, capsys, extra, message):
    path, _ = small_set
    assert _ppl(path, "--report", tmp_path / "r.json", "--model", tiny_model_dir, *extra) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_missing_input_model_or_overwriting_the_input_exit_2(tmp_path, small_set, capsys):
    path, _ = small_set
    assert _ppl(tmp_path / "nope.jsonl", "--report", tmp_path / "r.json") == 2
    assert "nope.jsonl: does not exist" in capsys.readouterr().err
    assert _ppl(path, "--report", path) == 2
    assert "--report is the input file" in capsys.readouterr().err
    assert _ppl(path, "--report", tmp_path / "r.json", "--model", tmp_path / "no-model") == 2
    assert "--model" in capsys.readouterr().err and not (tmp_path / "r.json").exists()


def _noisy() -> dict[str, str]:
    return {n["id"]: n["kind"] for n in json.loads(PATENTS_MANIFEST.read_text(encoding="utf-8"))["noisy"]}


def test_bundled_sample_openings_flag_the_garbled_and_boilerplate_documents():
    """Each patent's first 500 characters (all three kinds of noise show there), scored by the demo model.

    Garbled (mojibake) and boilerplate (one legal line repeated) are the two highest perplexities among the 36
    Chinese documents, so the top tail flags exactly them. The boilerplate is flagged *high*, not low: the demo
    model never saw that line and is too small to copy a repeated line. The shuffled document is well above the
    median but below the held-out and near-copy documents the demo model was not trained on (their perplexity is
    tens of times that of the memorised training documents), so at this tail size it is not flagged."""
    docs = [json.loads(line) for line in PATENTS_FILE.read_text(encoding="utf-8").splitlines()]
    openings = [{**d, "text": d["text"][:500]} for d in docs]
    result = score_records(openings, load_scorer(), batch_size=8)
    assert len(result.scores) == len(docs) and not result.issues
    noisy = _noisy()
    report = bucket_scores(openings, result.scores, BucketSettings(buckets=1, trim_high=0.06, trim_low=0.03))
    zh_high = {rid for rid, tail in report.flagged.items() if tail == "high" and report.bucket_of[rid] == "zh/0"}
    assert {noisy[rid] for rid in zh_high} == {"garbled", "boilerplate"}  # 0.06 x 36 = 2.16 -> 2 flagged
    zh = sorted((s for s in result.scores if docs[s.index]["lang"] == "zh"), key=lambda s: -s.ppl)
    shuffled = next(s for s in zh if noisy.get(s.id) == "shuffled")
    assert shuffled.ppl > 5 * statistics.median(s.ppl for s in zh)
    assert 3 <= zh.index(shuffled) + 1 <= 8  # rank among 36, behind documents the demo model never trained on
    # With the defaults (5 length buckets, 2% / 1%) buckets of ~7 documents round both tails to 0: nothing flagged.
    assert not bucket_scores(openings, result.scores, BucketSettings()).flagged


@pytest.mark.slow
def test_bundled_sample_whole_documents_flag_all_three_planted_documents(tmp_path):
    """The CLI on the whole documents, in sliding windows of 256 tokens (the demo model was trained on 256-token
    blocks; its config allows 1024, where its scores blur): the three planted noisy documents are the three highest
    perplexities among the 36 Chinese documents (garbled ~1e5, boilerplate ~1e5, shuffled ~25), the shuffled one
    ~20% above the next, a held-out document the demo model never saw (~20; its training documents ~1.5)."""
    report, kept, removed = tmp_path / "r.json", tmp_path / "k.jsonl", tmp_path / "rm.jsonl"
    assert _ppl(PATENTS_FILE, "--report", report, "--out", kept, "--removed", removed, "--buckets", "1",
                "--trim-high", "0.08", "--trim-low", "0", "--max-length", "256") == 0  # 0.08 x 36 = 2.88 -> 3
    data = json.loads(report.read_text(encoding="utf-8"))
    zh_high = {f["id"] for f in data["flagged"] if f["bucket"] == "zh/0" and f["tail"] == "high"}
    assert zh_high == set(_noisy())
    removed_rows = [json.loads(line) for line in removed.read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in removed_rows} >= zh_high and all(r["reason"] == "ppl_high" for r in removed_rows)
    assert len(kept.read_text(encoding="utf-8").splitlines()) + len(removed_rows) == data["counts"]["records"] == 46


def test_a_mixed_upload_is_scored_whole_and_the_garbled_answer_flagged(tmp_path, capsys):
    """Chats, alpaca pairs and text in one file, scored by the demo model: every record is scored, the kinds are
    bucketed apart, and the one mojibake answer is the noisiest chat whichever tokens of a chat are scored."""
    path = write_mixed(tmp_path / "mixed.jsonl")
    for mode in ("assistant", "conversation"):
        report = tmp_path / f"{mode}.json"
        assert _ppl(path, "--report", report, "--chat-tokens", mode, "--buckets", "1", "--trim-high", "0.1") == 0
        data = json.loads(report.read_text(encoding="utf-8"))
        assert data["counts"]["scored"] == data["counts"]["records"] == N_CHAT + N_ALPACA + N_TEXT
        assert data["counts"]["unscored"] == 0 and data["counts"]["unscored_by_reason"] == {}
        assert data["chat"]["tokens"] == mode
        assert (data["chat"]["chat_records_scored"], data["chat"]["text_records_scored"]) == (N_CHAT + N_ALPACA,
                                                                                              N_TEXT)
        assert data["settings"]["grouping"] == "kind (chat or text), then length"
        assert {b["bucket"] for b in data["buckets"]} == {"chat/0", "text/0"}
        # 0.1 x 10 chats = 1 flagged high: the garbled answer
        assert [f["id"] for f in data["flagged"] if f["bucket"] == "chat/0" and f["tail"] == "high"] == ["garbled"]
        scored_on = {"assistant": "their assistant turns", "conversation": "the whole conversation"}[mode]
        assert f"{N_CHAT + N_ALPACA} chat records scored on {scored_on}" in capsys.readouterr().out


def test_chats_a_reference_cannot_render_are_kept_and_counted_by_reason(tmp_path, tiny_model_dir, capsys):
    base = without_chat_template(tiny_model_dir, tmp_path / "base-model")
    path = write_mixed(tmp_path / "mixed.jsonl")
    report, kept, removed = tmp_path / "r.json", tmp_path / "k.jsonl", tmp_path / "rm.jsonl"
    assert _ppl(path, "--report", report, "--model", base, "--out", kept, "--removed", removed) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["counts"]["scored"] == N_TEXT and data["counts"]["unscored"] == N_CHAT + N_ALPACA
    assert data["counts"]["unscored_by_reason"] == {"no_chat_template": N_CHAT + N_ALPACA}
    assert {u["code"] for u in data["unscored"]} == {"no_chat_template"}
    assert data["records"]["chat0"]["issue_code"] == "no_chat_template"
    assert len(kept.read_text(encoding="utf-8").splitlines()) == N_CHAT + N_ALPACA + N_TEXT  # kept, unscored
    err = capsys.readouterr().err
    assert f"warning: {N_CHAT + N_ALPACA} record(s) not scored (no_chat_template)" in err and "and 7 more" in err
    assert err.count("no_chat_template") == 1  # one warning for the reason, not one per record
