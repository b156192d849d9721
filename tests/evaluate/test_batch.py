"""Batch evaluation: figures worked out by hand on a scripted engine, stopping, ranking and exports; then the real
chat engine with the tiny model and a random adapter."""

import csv
import io
import json
import math
import threading
from dataclasses import dataclass

import pytest

from studio.evaluate.batch import (evaluate, examples_csv, format_table, rank_examples, results_json, summary_csv,
                                   write_results)
from studio.evaluate.prompts import EvalPrompt, read_prompts

INTENT = '{"intent": "set_alarm", "slots": {"time": "6点"}}'
SCHEMA = {"type": "object", "properties": {"intent": {"type": "string"}, "slots": {"type": "object"}},
          "required": ["intent", "slots"], "additionalProperties": False}
PROMPTS = [
    EvalPrompt("p1", [{"role": "user", "content": "明天6点叫醒我"}], INTENT, SCHEMA, "set.jsonl:1"),
    EvalPrompt("p2", [{"role": "user", "content": "nice?"}], "Paris is nice", None, "set.jsonl:2"),
    EvalPrompt("p3", [{"role": "user", "content": "anything"}], None, None, "set.jsonl:3"),
]
ANSWERS = {"base": {"p1": "I don't know", "p2": "paris", "p3": '{"a": 1}'},
           "lora": {"p1": INTENT, "p2": "Paris is nice", "p3": "text"}}
NLL_PER_TOKEN = {"base": 2.0, "lora": 0.5}


@dataclass(frozen=True)
class Chunk:
    text: str
    n_tokens: int
    done: bool
    finish_reason: str | None = None


class ScriptedEngine:
    """The chat engine's interface with fixed answers: each answer streamed as the whole text so far."""

    names = ["base", "lora"]

    def stream(self, name, messages, settings, stop=None):
        prompt = next(p for p in PROMPTS if p.messages == messages)
        answer = ANSWERS[name][prompt.id]
        yield Chunk(answer[:1], 1, False)
        yield Chunk(answer, len(answer), True, "length" if prompt.id == "p3" else "eos")

    def reference_nll(self, name, messages, reference):
        return NLL_PER_TOKEN[name] * len(reference), len(reference)


@dataclass(frozen=True)
class Settings:
    max_new_tokens: int = 16


def test_figures_by_hand():
    results = evaluate(ScriptedEngine(), ["base", "lora"], PROMPTS, Settings())
    assert results["complete"] and results["n_evaluated"] == 3 and results["settings"] == {"max_new_tokens": 16}
    base, lora = results["models"]["base"], results["models"]["lora"]
    assert base["json_valid_rate"] == pytest.approx(1 / 3) and lora["json_valid_rate"] == pytest.approx(1 / 3)
    assert (base["schema_valid_rate"], lora["schema_valid_rate"], base["n_with_schema"]) == (0.0, 1.0, 1)
    assert (base["exact_match"], lora["exact_match"], base["n_with_reference"]) == (0.0, 1.0, 2)
    # base ROUGE-L: p1 shares no token with the reference (0); p2 [paris] vs [paris is nice]: P 1, R 1/3, F 0.5
    assert base["rouge_l"] == pytest.approx(0.25) and lora["rouge_l"] == 1.0
    assert base["perplexity"] == pytest.approx(math.exp(2.0)) and lora["perplexity"] == pytest.approx(math.exp(0.5))
    assert base["cut_off_rate"] == pytest.approx(1 / 3)
    assert base["mean_output_tokens"] == pytest.approx((12 + 5 + 8) / 3)
    assert base["mean_latency_s"] >= 0
    p3 = results["examples"][2]
    assert p3["reference"] is None and p3["outputs"]["lora"]["rouge_l"] is None
    assert p3["outputs"]["base"]["json_valid"] and p3["outputs"]["base"]["perplexity"] is None
    assert results["examples"][0]["outputs"]["lora"]["text"] == INTENT


def test_a_stop_keeps_only_finished_rows():
    stop = threading.Event()
    seen = []

    def progress(fraction, message):
        seen.append(message)
        if fraction >= 3 / 6:  # the first answer of the second prompt is done
            stop.set()

    results = evaluate(ScriptedEngine(), ["base", "lora"], PROMPTS, Settings(), progress=progress, stop=stop)
    assert not results["complete"] and results["n_evaluated"] == 1 and results["models"]["lora"]["n"] == 1
    assert seen[0] == "prompt 1/3 (p1), base"
    assert evaluate(ScriptedEngine(), ["base"], PROMPTS, Settings(), stop=lambda: True)["n_evaluated"] == 0


def test_unknown_models_and_empty_sets_are_refused():
    with pytest.raises(ValueError, match="no model named 'other' is loaded"):
        evaluate(ScriptedEngine(), ["base", "other"], PROMPTS, Settings())
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate(ScriptedEngine(), ["base"], [], Settings())


def test_rank_examples_puts_the_adapter_wins_first():
    results = evaluate(ScriptedEngine(), ["base", "lora"], PROMPTS, Settings())
    rows = rank_examples(results, "lora", "base", "rouge_l")
    assert [(r["id"], r["delta"]) for r in rows] == [("p1", 1.0), ("p2", 0.5)]  # p3 has no reference
    by_ppl = rank_examples(results, "lora", "base", "perplexity")
    assert all(r["delta"] > 0 for r in by_ppl)  # lower perplexity is better
    assert [r["delta"] for r in rank_examples(results, "lora", "base", "json_valid")] == [1.0, 0.0, -1.0]
    with pytest.raises(ValueError, match="metric must be one of"):
        rank_examples(results, "lora", "base", "bleu")


def test_exports(tmp_path):
    results = evaluate(ScriptedEngine(), ["base", "lora"], PROMPTS, Settings())
    results["models"]["base"]["perplexity"] = math.inf
    path = tmp_path / "results.json"
    write_results(path, results)
    loaded = json.loads(path.read_text(encoding="utf-8"))  # strict JSON: no Infinity
    assert loaded["models"]["base"]["perplexity"] is None and "明天6点叫醒我" in results_json(results)
    summary = list(csv.DictReader(io.StringIO(summary_csv(results))))
    assert [r["model"] for r in summary] == ["base", "lora"] and summary[1]["exact_match"] == "1.0"
    rows = list(csv.DictReader(io.StringIO(examples_csv(results))))
    assert len(rows) == 6 and rows[1]["model"] == "lora" and rows[1]["output"] == INTENT
    assert rows[4]["reference"] == "" and rows[4]["rouge_l"] == ""
    table = format_table(results)
    assert table.splitlines()[0].split()[:3] == ["model", "JSON", "valid"] and "3/3 prompts" in table


@pytest.fixture(scope="module")
def engine(tiny_model_dir, random_adapter_dir):
    from studio.chat.engine import ChatEngine
    from studio.config import ModelConfig

    engine = ChatEngine(ModelConfig(name_or_path=str(tiny_model_dir)), device="cpu")
    engine.add_adapter("lora", random_adapter_dir)
    yield engine
    engine.unload()


def test_the_real_engine_with_a_random_adapter(engine):
    from studio.chat.engine import GenerationSettings

    prompts = read_prompts("bundled:intent_eval").prompts[:3]
    results = evaluate(engine, engine.names, prompts, GenerationSettings(max_new_tokens=8))
    assert list(results["models"]) == ["base", "lora"] and results["n_evaluated"] == 3
    for name in ("base", "lora"):
        figures = results["models"][name]
        assert figures["json_valid_rate"] == 0.0  # random weights do not write JSON in 8 tokens
        assert figures["schema_valid_rate"] == 0.0 and 0 <= figures["rouge_l"] <= 1
        assert 1 < figures["perplexity"] < 1e6 and figures["n_reference_tokens"] > 3 * 10
        assert 1 <= figures["mean_output_tokens"] <= 8 and figures["mean_latency_s"] > 0
    base, lora = results["models"]["base"], results["models"]["lora"]
    assert base["perplexity"] != pytest.approx(lora["perplexity"], rel=1e-3)  # the adapter changes the model
    assert results["settings"]["max_new_tokens"] == 8 and results["settings"]["temperature"] == 0.0
    again = evaluate(engine, ["base"], prompts[:1], GenerationSettings(max_new_tokens=8))
    assert again["examples"][0]["outputs"]["base"]["text"] == results["examples"][0]["outputs"]["base"]["text"]
