"""The bundled sample data sets: shapes, planted problems as declared, and byte-for-byte reproducibility."""

import itertools
import json
import re
from pathlib import Path

import pytest

from studio.assets import (INTENT_ALPACA_FILE, INTENT_CHAT_FILE, INTENT_EVAL_FILE, PATENTS_FILE, PATENTS_MANIFEST,
                           SAMPLES_DIR)
from studio.assets.build_samples import build_all

PATENT_FIELDS = {"id", "jurisdiction", "title", "lang", "pub_date", "source", "page", "text"}
ZH_HEADING = re.compile(r"^(?:步骤|第)(\d+)步?：.*$", re.M)
EN_HEADING = re.compile(r"^Step (\d+): .*$", re.M)
CJK = re.compile(r"[\u4e00-\u9fff]")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def jaccard13(a: str, b: str) -> float:
    sa = {a[i:i + 13] for i in range(len(a) - 12)}
    sb = {b[i:i + 13] for i in range(len(b) - 12)}
    return len(sa & sb) / len(sa | sb)


@pytest.fixture(scope="module")
def patents() -> dict[str, dict]:
    return {r["id"]: r for r in read_jsonl(PATENTS_FILE)}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(PATENTS_MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ordinary(patents, manifest) -> list[dict]:
    planted = {e["id"] for entries in manifest.values() for e in entries}
    return [r for doc_id, r in patents.items() if doc_id not in planted]


def test_patent_records_have_exact_fields_and_unique_ids(patents):
    records = read_jsonl(PATENTS_FILE)
    assert len(patents) == len(records)
    for r in records:
        assert set(r) == PATENT_FIELDS
        assert re.fullmatch(r"[A-Z]{2}-\d{4}-\d{6}", r["id"])
        assert r["id"].startswith(r["jurisdiction"] + "-" + r["pub_date"][:4])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["pub_date"])
        assert r["lang"] in ("zh", "en") and isinstance(r["page"], int) and r["page"] >= 1
        assert r["source"].startswith("samples/patents/") and "://" not in r["source"]
    assert len({r["source"] for r in records}) == len(records)


def test_manifest_has_the_planted_problems(manifest, patents, ordinary):
    assert set(manifest) == {"exact_duplicates", "near_duplicates", "noisy"}
    assert len(manifest["exact_duplicates"]) == 2 and len(manifest["near_duplicates"]) == 3
    assert sorted(e["kind"] for e in manifest["noisy"]) == ["boilerplate", "garbled", "shuffled"]
    assert len(ordinary) >= 36
    assert len(ordinary) + 8 == len(patents)
    zh_share = sum(r["lang"] == "zh" for r in ordinary) / len(ordinary)
    assert 0.7 <= zh_share <= 0.9


def test_ordinary_documents_are_structured_in_their_language(ordinary):
    for r in ordinary:
        text = r["text"]
        assert text.split("\n")[0] == r["title"]
        heading = ZH_HEADING if r["lang"] == "zh" else EN_HEADING
        numbers = [int(n) for n in heading.findall(text)]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 4, r["id"]
        # The abstract, then each step, is at least two blank-line-separated paragraphs.
        sections = heading.split(text)[::2]  # split() interleaves the captured step numbers
        assert len(sections) == len(numbers) + 1
        assert all(len(section.strip().split("\n\n")) >= 2 for section in sections), r["id"]
        letters = [c for c in text if not c.isspace()]
        cjk_share = sum(bool(CJK.match(c)) for c in letters) / len(letters)
        if r["lang"] == "zh":
            assert cjk_share > 0.6 and 1500 <= len(text) <= 4000 and not EN_HEADING.search(text), r["id"]
        else:
            assert cjk_share == 0 and len(text) >= 1500, r["id"]


def test_ordinary_documents_are_not_near_duplicates_of_each_other(ordinary):
    worst = max(jaccard13(a["text"], b["text"]) for a, b in itertools.combinations(ordinary, 2))
    assert worst < 0.5


def test_exact_and_near_duplicates_are_what_the_manifest_says(manifest, patents):
    for e in manifest["exact_duplicates"]:
        copy, original = patents[e["id"]], patents[e["duplicate_of"]]
        assert copy["text"] == original["text"] and copy["source"] != original["source"]
    for e in manifest["near_duplicates"]:
        copy, original = patents[e["id"]]["text"], patents[e["near_of"]]["text"]
        similarity = jaccard13(copy, original)
        assert copy != original and similarity >= 0.85
        assert similarity == pytest.approx(e["jaccard13"], abs=1e-4)


def test_noisy_records_are_noisy(manifest, patents):
    kinds = {e["kind"]: patents[e["id"]]["text"] for e in manifest["noisy"]}
    garbled = kinds["garbled"]
    assert len(CJK.findall(garbled)) < 0.01 * len(garbled) and len(garbled) > 1000
    lines = [line for line in kinds["boilerplate"].split("\n") if line]
    assert max(lines.count(line) for line in set(lines)) > 0.8 * len(lines)
    shuffled = kinds["shuffled"]
    assert not ZH_HEADING.search(shuffled) and len(shuffled) > 1000
    assert all(jaccard13(shuffled, r["text"]) < 0.5 for r in patents.values() if r["text"] != shuffled)


def answer_ok(answer: str, intents: list[str]) -> dict:
    parsed = json.loads(answer)
    assert list(parsed) == ["intent", "slots"] and parsed["intent"] in intents
    assert isinstance(parsed["slots"], dict) and all(isinstance(v, str) for v in parsed["slots"].values())
    return parsed


def test_intent_chat_alpaca_and_eval_files_agree():
    chat, alpaca, evaluation = read_jsonl(INTENT_CHAT_FILE), read_jsonl(INTENT_ALPACA_FILE), read_jsonl(INTENT_EVAL_FILE)
    assert len(chat) >= 360 and len(evaluation) >= 60
    assert len({r["id"] for r in chat}) == len(chat) and len({r["id"] for r in evaluation}) == len(evaluation)
    intents = evaluation[0]["json_schema"]["properties"]["intent"]["enum"]
    assert 10 <= len(intents) <= 12
    system = chat[0]["messages"][0]["content"]
    for c, a in zip(chat, alpaca, strict=True):
        assert set(c) == {"id", "messages"} and set(a) == {"id", "instruction", "input", "output"}
        assert [m["role"] for m in c["messages"]] == ["system", "user", "assistant"]
        assert (c["id"], system, c["messages"][1]["content"], c["messages"][2]["content"]) == \
            (a["id"], a["instruction"], a["input"], a["output"])
        assert c["messages"][0]["content"] == system
        parsed = answer_ok(c["messages"][2]["content"], intents)
        # Slot values are spans of the utterance, so the task is learnable by copying.
        assert all(v in c["messages"][1]["content"] for v in parsed["slots"].values())
    zh_share = sum(bool(CJK.search(c["messages"][1]["content"])) for c in chat) / len(chat)
    assert 0.5 <= zh_share <= 0.7
    assert {answer_ok(c["messages"][2]["content"], intents)["intent"] for c in chat} == set(intents)
    train_utterances = {c["messages"][1]["content"] for c in chat}
    for e in evaluation:
        assert set(e) == {"id", "prompt", "messages", "reference", "json_schema"}
        assert e["messages"] == [{"role": "system", "content": system}, {"role": "user", "content": e["prompt"]}]
        assert e["prompt"] not in train_utterances
        assert e["json_schema"]["required"] == ["intent", "slots"]
        answer_ok(e["reference"], intents)


def test_generator_reproduces_the_committed_files(tmp_path):
    written = build_all(tmp_path)
    assert {p.name for p in written.values()} == {p.name for p in SAMPLES_DIR.iterdir() if not p.name.startswith(".")}
    for name, path in written.items():
        assert path.read_bytes() == (SAMPLES_DIR / name).read_bytes(), f"{name} is stale: rerun build_samples"
    total = sum(p.stat().st_size for p in written.values())
    assert total < 2_000_000
