"""`dedup` on the command line: outputs, messages, exit status, and no partial files."""

import argparse
import json
from pathlib import Path

import pytest

from studio.quality import dedup_command
from studio.quality.dedup_command import configure_parser, run

SAMPLE = Path(__file__).resolve().parents[2] / "studio" / "assets" / "samples" / "patents.jsonl"


def _dedup(tmp_path: Path, *argv: str, inputs: tuple = (str(SAMPLE),)) -> int:
    parser = argparse.ArgumentParser(prog="dedup")
    configure_parser(parser)
    args = parser.parse_args([*inputs, "--out", str(tmp_path / "kept.jsonl"), "--removed",
                              str(tmp_path / "removed.jsonl"), "--report", str(tmp_path / "report.json"), *argv])
    assert args.func is run
    return args.func(args)


def _outputs(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name in {"kept.jsonl", "removed.jsonl", "report.json"})


def test_end_to_end_on_the_sample(tmp_path, capsys):
    assert _dedup(tmp_path) == 0
    kept = [json.loads(line) for line in (tmp_path / "kept.jsonl").read_text(encoding="utf-8").splitlines()]
    removed = [json.loads(line) for line in (tmp_path / "removed.jsonl").read_text(encoding="utf-8").splitlines()]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len(kept) == 41 and len(removed) == 5 and report["removed"] == 5
    assert {e["reason"] for e in removed} == {"exact", "near"}
    assert set(removed[0]) == {"id", "duplicate_of", "reason", "similarity", "record"}
    assert kept[0]["id"] == "CN-2015-137603" and "text" in kept[0] and "title" in kept[0]
    out = capsys.readouterr().out
    assert "2 exact and 3 near duplicates removed" in out and "32 bands x 4 rows" in out
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_auto_bands_and_options_reach_the_settings(tmp_path):
    assert _dedup(tmp_path, "--auto-bands", "--threshold", "0.85", "--keep", "longest", "--shingle", "9") == 0
    settings = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["settings"]
    assert (settings["bands"], settings["rows"], settings["auto_bands"]) == (*_auto(0.85), True)
    assert settings["keep"] == "longest" and settings["shingle"] == 9


def _auto(threshold: float) -> tuple[int, int]:
    from studio.quality.lsh import choose_bands
    return choose_bands(threshold, 128)


def test_bands_alone_fill_the_permutations(tmp_path):
    assert _dedup(tmp_path, "--bands", "16") == 0
    settings = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["settings"]
    assert (settings["bands"], settings["rows"]) == (16, 8)


@pytest.mark.parametrize("argv, message", [
    (("--auto-bands", "--bands", "9"), "--auto-bands chooses"),
    (("--bands", "40", "--rows", "4"), "--bands: 40 bands x 4 rows = 160 exceeds num_perm 128"),
    (("--threshold", "1.5"), "--threshold: must be"),
    (("--num-perm", "0"), "--num-perm: must be"),
    (("--shingle", "0"), "--shingle: must be"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, argv, message):
    assert _dedup(tmp_path, *argv) == 2
    assert message in capsys.readouterr().err
    assert _outputs(tmp_path) == []


def test_unreadable_records_stop_the_run_before_anything_is_written(tmp_path, capsys):
    bad = tmp_path / "in.jsonl"
    bad.write_text('{"text": "a fine record"}\n{"text": ""}\nnot json\n{"text": 5}\n', encoding="utf-8")
    (tmp_path / "kept.jsonl").write_text("previous\n", encoding="utf-8")
    assert _dedup(tmp_path, inputs=(str(bad),)) == 1
    err = capsys.readouterr().err
    assert "in.jsonl:line 2: field 'text' is empty" in err and "in.jsonl:line 3: not valid JSON" in err
    assert "nothing written" in err
    assert _outputs(tmp_path) == ["kept.jsonl"] and (tmp_path / "kept.jsonl").read_text() == "previous\n"


def test_a_missing_input_file_exits_2(tmp_path, capsys):
    assert _dedup(tmp_path, inputs=(str(tmp_path / "nope.jsonl"),)) == 2
    assert "does not exist" in capsys.readouterr().err and _outputs(tmp_path) == []


def test_a_field_no_record_has_is_named(tmp_path, capsys):
    assert _dedup(tmp_path, "--field", "abstract") == 1
    err = capsys.readouterr().err
    assert "record 'CN-2015-137603'" in err and "no 'abstract' field" in err and "26 more not listed" in err
    assert _outputs(tmp_path) == []


def test_field_choice_other_fields_and_mapped_ones(tmp_path):
    source = tmp_path / "in.jsonl"
    rows = [{"body": "the same body text, long enough to shingle", "title": "one"},
            {"body": "the same body text, long enough to shingle", "title": "two"},
            {"body": "something else entirely, no overlap at all", "title": "one"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert _dedup(tmp_path, "--field", "body", inputs=(str(source),)) == 0  # ingestion mapped body -> text
    removed = (tmp_path / "removed.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in removed] == ["in-2"]
    assert _dedup(tmp_path, "--field", "title", inputs=(str(source),)) == 0
    removed = (tmp_path / "removed.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in removed] == ["in-3"]


def test_a_failed_write_leaves_no_partial_files(tmp_path, monkeypatch, capsys):
    (tmp_path / "report.json").mkdir()  # the last file cannot be renamed into place
    assert _dedup(tmp_path) == 2
    assert "cannot write the outputs" in capsys.readouterr().err
    assert not (tmp_path / "kept.jsonl").exists() and not (tmp_path / "removed.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_the_same_path_twice_is_refused(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    same = str(tmp_path / "x.jsonl")
    args = parser.parse_args([str(SAMPLE), "--out", same, "--removed", same, "--report", str(tmp_path / "r.json")])
    assert run(args) == 2 and "three different files" in capsys.readouterr().err


def test_the_parser_has_exactly_the_issue_options():
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    options = {o for action in parser._actions for o in action.option_strings} - {"-h", "--help"}
    assert options == {"--out", "--removed", "--report", "--field", "--shingle", "--num-perm", "--bands", "--rows",
                       "--auto-bands", "--threshold", "--keep"}
    assert dedup_command.__doc__.lstrip().startswith("`python -m studio dedup`")
