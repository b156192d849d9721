"""`python -m studio eval` as a user runs it: a subprocess on three prompts, and bad input refused up front."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.assets import INTENT_EVAL_FILE
from studio.evaluate.eval_command import configure_parser, parse_adapters, run

ROOT = Path(__file__).resolve().parents[2]


def _eval(*argv) -> int:
    return run(configure_parser(argparse.ArgumentParser()).parse_args([str(a) for a in argv]))


@pytest.fixture
def three_prompts(tmp_path) -> Path:
    path = tmp_path / "three.jsonl"
    path.write_text("".join(INTENT_EVAL_FILE.read_text(encoding="utf-8").splitlines(keepends=True)[:3]),
                    encoding="utf-8")
    return path


@pytest.mark.slow
def test_eval_as_a_subprocess_writes_results_for_base_and_adapter(tiny_model_dir, random_adapter_dir,
                                                                   three_prompts, tmp_path):
    out = tmp_path / "results.json"
    result = subprocess.run([sys.executable, "-m", "studio", "eval", "--base", str(tiny_model_dir), "--adapter",
                             f"lora={random_adapter_dir}", "--prompts", str(three_prompts), "--out", str(out),
                             "--max-new-tokens", "8", "--json"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["n_evaluated"] == 3 and summary["complete"] and summary["out"] == str(out)
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results["models"]) == {"base", "lora"}
    for figures in results["models"].values():
        for key in ("json_valid_rate", "schema_valid_rate", "exact_match", "rouge_l", "perplexity",
                    "mean_latency_s"):
            assert isinstance(figures[key], float), key
    assert results["models"] == summary["models"]
    assert len(results["examples"]) == 3 and set(results["examples"][0]["outputs"]) == {"base", "lora"}
    assert results["adapters"] == {"lora": str(random_adapter_dir)} and results["base"] == str(tiny_model_dir)
    assert "100.0%  prompt 3/3" in result.stderr


def test_the_table_is_printed_without_json(tiny_model_dir, three_prompts, tmp_path, capsys):
    assert _eval("--base", tiny_model_dir, "--prompts", three_prompts, "--out", tmp_path / "r.json",
                 "--max-new-tokens", "4") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("model") and lines[1].startswith("base") and "3/3 prompts" in lines[2]


def test_a_bad_prompt_set_stops_before_loading_and_writes_nothing(tmp_path, capsys):
    prompts = tmp_path / "bad.jsonl"
    prompts.write_text('{"prompt": "ok"}\n{"prompt": \n{"text": "no prompt"}\n', encoding="utf-8")
    out = tmp_path / "r.json"
    assert _eval("--base", tmp_path / "no-model", "--prompts", prompts, "--out", out) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:line 2: not valid JSON" in err and "bad.jsonl:line 3: no prompt" in err
    assert "2 problems in the prompt set" in err and not out.exists()


def test_adapter_flags_are_checked(random_adapter_dir, tmp_path, capsys):
    assert parse_adapters([f"a={random_adapter_dir}"]) == {"a": random_adapter_dir}
    run_dir = tmp_path / "20250101-run" / "adapter"
    run_dir.mkdir(parents=True)
    (run_dir / "adapter_config.json").write_text("{}", encoding="utf-8")
    assert parse_adapters([str(run_dir)]) == {"20250101-run": run_dir}  # a run's adapter: named after the run
    for spec, message in ((f"base={random_adapter_dir}", "the base model's name"),
                          ("=x", "write NAME=PATH"), (f"a={tmp_path}", "no adapter_config.json")):
        with pytest.raises(ValueError, match=message):
            parse_adapters([spec])
    with pytest.raises(ValueError, match="given twice"):
        parse_adapters([f"a={random_adapter_dir}", f"a={random_adapter_dir}"])
    assert _eval("--adapter", f"base={random_adapter_dir}", "--prompts", "bundled:intent_eval", "--out",
                 tmp_path / "r.json") == 2
    assert "the base model's name" in capsys.readouterr().err


def test_an_adapter_of_another_base_is_a_message(tiny_model_dir, random_adapter_dir, three_prompts, tmp_path,
                                                  capsys):
    # the random adapter was made for the tiny model; the demo model has other shapes
    assert _eval("--adapter", f"lora={random_adapter_dir}", "--prompts", three_prompts, "--out",
                 tmp_path / "r.json") == 2
    err = capsys.readouterr().err
    assert "--adapter lora: " in err and "trained on another base" in err and "Traceback" not in err and not (tmp_path / "r.json").exists()


def test_first_signal_asks_to_stop_second_aborts_and_handlers_come_back():
    import signal
    import threading

    from studio.evaluate.eval_command import stop_on_signals

    before = signal.getsignal(signal.SIGINT)
    stop = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        with stop_on_signals(stop):
            os.kill(os.getpid(), signal.SIGINT)
            assert stop.is_set()
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
