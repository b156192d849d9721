"""`python -m studio report` as a user runs it: the file written, bad input refused with no file left behind."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.report.report_command import configure_parser, run, write_run_report
from tests.report.conftest import RUN_ID

ROOT = Path(__file__).resolve().parents[2]


def report(*argv) -> int:
    return run(configure_parser(argparse.ArgumentParser()).parse_args([str(a) for a in argv]))


def test_the_command_writes_one_file_and_imports_no_gradio(hand_workspace, tmp_path):
    out = tmp_path / "out" / "report.html"
    code = ("import runpy, sys; sys.argv = ['studio', 'report', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('studio', run_name='__main__')\n"
            "except SystemExit as exit:\n    assert 'gradio' not in sys.modules, 'gradio imported'\n"
            "    raise\n")
    result = subprocess.run([sys.executable, "-c", code, str(hand_workspace.runs / RUN_ID), "--out", str(out),
                             "--examples", "3"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "STUDIO_HOME": str(tmp_path / "elsewhere")})
    assert result.returncode == 0, result.stderr
    assert "1 evaluation(s), 5 vote(s), 3 example(s)" in result.stdout and str(out) in result.stdout
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('class="example"') == 3
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temp file left
    assert not (tmp_path / "elsewhere").exists()  # the run's own workspace was used, nothing created


@pytest.mark.parametrize("case", ["missing", "a file", "no recipe", "no events", "empty events"])
def test_bad_run_folders_are_refused_naming_the_path_and_the_fix(case, ws, tmp_path, capsys):
    from tests.report.conftest import hand_run

    run_dir = hand_run(ws)
    if case == "missing":
        run_dir = tmp_path / "nope"
    elif case == "a file":
        run_dir = run_dir / "recipe.yaml"
    elif case == "no recipe":
        (run_dir / "recipe.yaml").unlink()
    elif case == "no events":
        (run_dir / "events.jsonl").unlink()
    else:
        (run_dir / "events.jsonl").write_text("")
    out = tmp_path / "r.html"
    assert report(run_dir, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nothing was written" in err and "Traceback" not in err
    assert str(run_dir) in err
    fixes = {"missing": "give a run folder", "a file": "give a run folder", "no recipe": "not a run folder",
             "no events": "python -m studio train", "empty events": "has no events"}
    assert fixes[case] in err
    assert not out.exists() and list(tmp_path.glob("*.tmp")) == [] and list(tmp_path.glob(".r.html*")) == []


def test_bad_options_are_refused_before_anything_is_read(hand_workspace, tmp_path, capsys):
    run_dir = hand_workspace.runs / RUN_ID
    assert report(run_dir, "--out", tmp_path) == 2
    assert f"--out {tmp_path}: a folder" in capsys.readouterr().err
    assert report(run_dir, "--out", run_dir / "events.jsonl") == 2
    assert "a file of the run itself" in capsys.readouterr().err
    assert report(run_dir, "--out", tmp_path / "r.html", "--examples", "-1") == 2
    assert "--examples -1" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_an_existing_report_is_replaced_whole(hand_workspace, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old")
    assert report(hand_workspace.runs / RUN_ID, "--out", out, "--workspace", hand_workspace.root) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_ui_path_is_under_reports_runs(hand_workspace):
    path = write_run_report(hand_workspace, RUN_ID)
    assert path == hand_workspace.reports / "runs" / RUN_ID / "report.html" and path.is_file()
    from studio.report.collect import ReportError

    for bad in ("", "../runs", "no-such-run"):
        with pytest.raises(ReportError, match="pick a run from the list"):
            write_run_report(hand_workspace, bad)
