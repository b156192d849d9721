"""The command line as a user runs it: real subprocesses, real exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "STUDIO_AUTH"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**clean, **(env or {})})


def test_help_lists_every_subcommand():
    result = run("-m", "studio", "--help")
    assert result.returncode == 0
    for name in ("ui", "chunk", "dedup", "ppl", "estimate", "train", "eval", "merge", "check"):
        assert f"    {name} " in result.stdout


def test_check_accepts_the_shipped_recipes_and_names_problems(tmp_path):
    assert run("-m", "studio", "check", "recipes/cpu-demo.yaml").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim:\n  learning_rate: -1\n", encoding="utf-8")
    result = run("-m", "studio", "check", str(bad))
    assert result.returncode == 1
    assert "line 2, optim.learning_rate: must be > 0.0, got -1.0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--share"]])
def test_app_refuses_to_expose_itself_without_auth(args, tmp_path):
    result = run("app.py", *args, "--workspace", str(tmp_path))
    assert result.returncode == 2
    assert "needs a password" in result.stderr and "Traceback" not in result.stderr


def test_app_refuses_a_model_that_is_neither_a_folder_nor_a_hub_id(tmp_path):
    result = run("app.py", "--model", str(tmp_path / "missing"), "--workspace", str(tmp_path))
    assert result.returncode == 2
    assert "no such model folder" in result.stderr and "Traceback" not in result.stderr


def test_chunk_writes_fragments_and_reports_bad_files(tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "d1", "text": "步骤1：测试。\\n\\n第一段。"}\n{"id": "d2", "text": \n', encoding="utf-8")
    out = tmp_path / "fragments.jsonl"
    result = run("-m", "studio", "chunk", "studio/assets/samples/patents.jsonl", str(broken), "--out", str(out),
                 "--min-tokens", "100", "--max-tokens", "200", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["documents"] == 47 and summary["max_tokens"] <= 200
    assert "broken.jsonl:line 2" in result.stderr and "Traceback" not in result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary["fragments"]
    assert json.loads(lines[0])["hash"].startswith("sha1:")


def test_chunk_with_nothing_usable_writes_nothing(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = run("-m", "studio", "chunk", str(empty), "--out", str(tmp_path / "out.jsonl"))
    assert result.returncode == 1 and "nothing written" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_dedup_finds_the_planted_duplicates_of_the_bundled_corpus(tmp_path):
    outputs = [str(tmp_path / name) for name in ("kept.jsonl", "removed.jsonl", "report.json")]
    result = run("-m", "studio", "dedup", "bundled:patents", "--out", outputs[0], "--removed", outputs[1],
                 "--report", outputs[2])
    assert result.returncode == 0, result.stderr
    assert "2 exact and 3 near duplicates removed" in result.stdout
    removed = [json.loads(line) for line in open(outputs[1], encoding="utf-8")]
    assert sorted(r["reason"] for r in removed) == ["exact", "exact", "near", "near", "near"]


def test_ppl_scores_every_record_and_writes_the_report(tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": f"r{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in
                            enumerate(["步骤1：将电池放入壳体。", "The pump runs at 2 L/min.", "ÃÂ¤Ã¦Â±Â¸Ã"])),
                    encoding="utf-8")
    report = tmp_path / "report.json"
    result = run("-m", "studio", "ppl", str(data), "--report", str(report), "--max-length", "64")
    assert result.returncode == 0, result.stderr
    scores = json.loads(report.read_text(encoding="utf-8"))["records"]
    assert set(scores) == {"r0", "r1", "r2"} and all(s["ppl"] > 1 for s in scores.values())


def test_estimate_prints_the_issue_json_keys_and_reads_recipes():
    result = run("-m", "studio", "estimate", "--model", "meta-llama/Llama-2-7b-hf", "--method", "qlora",
                 "--batch-size", "1", "--max-length", "1024", "--grad-ckpt", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    keys = ["weights_gib", "lora_gib", "gradients_gib", "optimizer_gib", "activations_gib", "logits_gib",
            "overhead_gib", "total_gib", "effective_batch"]
    assert all(isinstance(out[k], (int, float)) for k in keys)
    assert 3 < out["weights_gib"] < out["total_gib"] < 16
    fit = json.loads(run("-m", "studio", "estimate", "--recipe", "recipes/qlora-qwen2.5-7b.yaml", "--gpu-gib", "16",
                         "--json").stdout)
    assert fit["verdict"] != "won't fit" and fit["effective_batch"] == 16


def test_estimate_of_an_unknown_model_fails_fast_with_advice():
    result = run("-m", "studio", "estimate", "--model", "nobody/unknown-model", env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2 and "pass a local config.json" in result.stderr
