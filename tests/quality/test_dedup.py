"""The deduplication pipeline: settings, verification, clustering, keep policy, reports, bad input, cancel."""

import json
import random
from pathlib import Path

import pytest

from studio.data.ingest import ingest_paths
from studio.quality.dedup import PRESETS, Cancelled, DedupInputError, DedupSettings, find_duplicates
from studio.quality.minhash import text_shingles
from studio.quality.normalize import normalize_text

SAMPLES = Path(__file__).resolve().parents[2] / "studio" / "assets" / "samples"
_LETTERS = "abcdefghijklmnopqrstuvwxyz     "


def _text(seed: int, n: int = 400) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(_LETTERS) for _ in range(n))


def _edit(text: str, positions: list[int]) -> str:
    chars = list(text)
    for i in positions:
        chars[i] = "#"
    return "".join(chars)


def _jaccard(a: str, b: str, k: int = 13) -> float:
    sa, sb = text_shingles(normalize_text(a), k), text_shingles(normalize_text(b), k)
    return len(sa & sb) / len(sa | sb)


def _records(*texts: str) -> list[dict]:
    return [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)]


def _removed(result) -> dict[str, tuple[str, str]]:
    return {e["id"]: (e["duplicate_of"], e["reason"]) for e in result.removed}


# Settings


@pytest.mark.parametrize("changes, field", [
    ({"shingle": 0}, "shingle"), ({"num_perm": 0}, "num_perm"), ({"threshold": 0}, "threshold"),
    ({"threshold": 1.5}, "threshold"), ({"keep": "last"}, "keep"), ({"verify": "maybe"}, "verify"),
    ({"bands": 0}, "bands"), ({"rows": 0}, "rows"), ({"bands": 40, "rows": 4}, "bands"), ({"field": ""}, "field"),
    ({"sample_size": -1}, "sample_size"), ({"shingle": True}, "shingle"), ({"num_perm": 1.5}, "num_perm"),
])
def test_bad_settings_name_the_field(changes, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        DedupSettings(**changes)


def test_presets_and_auto_bands():
    assert DedupSettings.preset("web").threshold == PRESETS["web"] == 0.82
    assert DedupSettings.preset("books", keep="longest").keep == "longest"
    assert DedupSettings.preset("code").threshold == 0.95
    with pytest.raises(ValueError, match="^preset"):
        DedupSettings.preset("poetry")
    assert DedupSettings().banding() == (32, 4)
    assert DedupSettings(auto_bands=True, bands=0).banding() == (9, 13)  # bands/rows ignored in auto mode


# Exact and near duplicates


def test_exact_duplicates_after_normalisation():
    base = _text(1)
    result = find_duplicates(_records(base, base.upper(), "  " + base.replace(" ", "\n"), _text(2)))
    assert _removed(result) == {"r1": ("r0", "exact"), "r2": ("r0", "exact")}
    assert [e["similarity"] for e in result.removed] == [1.0, 1.0]
    assert result.report["exact_duplicates"] == 2 and result.report["near_duplicates"] == 0


def test_a_near_duplicate_is_removed_with_its_similarity():
    base = _text(3)
    near = _edit(base, [200])
    result = find_duplicates(_records(_text(4), base, near))
    assert _removed(result) == {"r2": ("r1", "near")}
    assert result.removed[0]["similarity"] == pytest.approx(_jaccard(base, near), abs=0.1)
    assert result.removed[0]["record"] == {"id": "r2", "text": near}


@pytest.mark.parametrize("verify", ["signature", "exact"])
def test_a_candidate_pair_below_the_threshold_is_not_removed(verify):
    base = _text(5)
    half = _edit(base, list(range(10, 400, 40)))  # ~10 edits: Jaccard far below 0.8, far above 0
    assert 0.3 < _jaccard(base, half) < 0.6
    # 128 bands of 1 row: the pair is a candidate with probability 1 - (1 - J)^128, i.e. certainly.
    result = find_duplicates(_records(base, half), DedupSettings(bands=128, rows=1, verify=verify))
    assert result.report["candidate_pairs"] == 1 and result.report["verified_pairs"] == 0
    assert result.removed == [] and len(result.kept) == 2


def test_clusters_are_transitive():
    a = _text(6, 300)
    b = _edit(a, [20, 60, 100])  # edits in the first half...
    c = _edit(b, [180, 220, 260])  # ...then in the second: a~b and b~c, but a and c further apart
    ab, bc, ac = _jaccard(a, b), _jaccard(b, c), _jaccard(a, c)
    threshold = (ac + min(ab, bc)) / 2
    result = find_duplicates(_records(a, b, c, _text(7)), DedupSettings(threshold=round(threshold, 3),
                                                                       verify="exact", bands=64, rows=2))
    assert _removed(result) == {"r1": ("r0", "near"), "r2": ("r0", "near")}
    chained = next(e for e in result.removed if e["id"] == "r2")
    assert chained["similarity"] == pytest.approx(ac, abs=1e-3) and chained["similarity"] < threshold
    assert result.report["cluster_sizes"] == {"3": 1}
    cluster = result.report["largest_clusters"][0]
    assert cluster["kept"] == "r0" and [m["id"] for m in cluster["members"]] == ["r0", "r1", "r2"]


def test_keep_first_or_longest():
    short = _text(8)
    longer = short + " and a few more words at the end"
    records = _records(short, longer, _text(9), "Hello world " + _text(10), "hello   WORLD " + _text(10) + "  x")
    first = find_duplicates(records, DedupSettings(keep="first"))
    assert _removed(first) == {"r1": ("r0", "near"), "r4": ("r3", "near")}
    longest = find_duplicates(records, DedupSettings(keep="longest"))
    assert _removed(longest) == {"r0": ("r1", "near"), "r3": ("r4", "near")}


def test_exact_copies_of_a_near_duplicate_point_at_the_kept_record():
    base = _text(11)
    near = _edit(base, [150])
    result = find_duplicates(_records(base, near, near.upper()))
    assert _removed(result) == {"r1": ("r0", "near"), "r2": ("r0", "near")}
    assert result.removed[0]["similarity"] == result.removed[1]["similarity"] < 1


def test_chat_records_are_compared_by_their_turns():
    turns = [{"role": "user", "content": _text(12, 100)}, {"role": "assistant", "content": _text(13, 300)}]
    records = [{"id": "a", "messages": turns}, {"id": "b", "messages": [dict(t) for t in turns]},
               {"id": "c", "text": _text(14)}]
    assert _removed(find_duplicates(records)) == {"b": ("a", "exact")}


def test_a_large_bucket_is_verified_against_leaders():
    base = _text(15, 600)
    family = [_edit(base, [i]) for i in range(100, 500, 5)]  # 80 near copies, all sharing most bands
    result = find_duplicates(_records(base, *family, _text(16)), DedupSettings(max_bucket=8))
    assert len(result.removed) == 80 and {e["duplicate_of"] for e in result.removed} == {"r0"}


# The bundled sample


def _planted() -> tuple[list[dict], set[frozenset], set[frozenset]]:
    records = ingest_paths([SAMPLES / "patents.jsonl"]).records
    manifest = json.loads((SAMPLES / "patents_manifest.json").read_text(encoding="utf-8"))
    exact = {frozenset((d["id"], d["duplicate_of"])) for d in manifest["exact_duplicates"]}
    near = {frozenset((d["id"], d["near_of"])) for d in manifest["near_duplicates"]}
    return records, exact, near


@pytest.mark.parametrize("settings", [DedupSettings(), DedupSettings(auto_bands=True),
                                      DedupSettings(verify="exact", keep="longest")], ids=["32x4", "auto", "exact"])
def test_the_planted_duplicates_of_the_sample_are_found_and_nothing_else(settings):
    records, exact, near = _planted()
    result = find_duplicates(records, settings)
    pairs = {frozenset((e["id"], e["duplicate_of"])): e["reason"] for e in result.removed}
    assert {p for p, reason in pairs.items() if reason == "exact"} == exact
    assert {p for p, reason in pairs.items() if reason == "near"} == near
    assert len(result.kept) == len(records) - 5


def test_the_report_holds_what_the_tab_shows():
    records, _, _ = _planted()
    report = find_duplicates(records).report
    assert report["documents"] == 46 and report["kept"] == 41 and report["removed"] == 5
    assert report["exact_duplicates"] == 2 and report["near_duplicates"] == 3
    assert report["share_removed"] == pytest.approx(5 / 46, abs=1e-6)
    assert report["cluster_sizes"] == {"2": 5} and len(report["largest_clusters"]) == 5
    member = report["largest_clusters"][0]["members"][0]
    assert member["kept"] and member["text"] and member["reason"] is None
    assert report["settings"]["threshold"] == 0.8 and (report["settings"]["bands"], report["settings"]["rows"]) \
        == (32, 4)
    assert report["s_curve"]["midpoint"] == pytest.approx(0.4204, abs=1e-4) and len(report["s_curve"]["points"]) \
        == 101
    remaining = report["remaining_duplicates"]
    assert remaining["sampled"] == 41 and remaining["with_duplicate"] == 0 and remaining["interval_95"][0] == 0
    json.dumps(report)  # JSON-ready as it is


# Bad input, progress, cancel


def test_records_without_usable_text_are_all_named():
    records = [{"id": "ok", "text": "fine text"}, {"id": "missing", "body": "x"}, {"id": "empty", "text": "  "},
               {"id": "number", "text": 5}, {"id": "list", "text": ["a"]}, "not a record"]
    with pytest.raises(DedupInputError) as info:
        find_duplicates(records)
    problems = info.value.problems
    assert len(problems) == 5
    assert "'missing'" in problems[0] and "no 'text' field" in problems[0]
    assert "'empty'" in problems[1] and "empty" in problems[1]
    assert "'number'" in problems[2] and "holds int" in problems[2]
    assert "'list'" in problems[3] and "holds list" in problems[3]
    assert "record '#6'" in problems[4]


def test_a_5_mb_record_is_compared_like_any_other():
    rng = random.Random(17)
    big = "".join(rng.choice(_LETTERS) for _ in range(5_000_000))
    result = find_duplicates(_records(big, _text(18), big[:-10] + "0123456789"))
    assert _removed(result) == {"r2": ("r0", "near")}
    assert len(result.kept) == 2


def test_progress_rises_to_one():
    seen = []
    find_duplicates(_records(*(_text(i) for i in range(30))), progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_cancel_raises_before_a_result_exists():
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        find_duplicates(_records(*(_text(i) for i in range(30))), cancel=cancel)


def test_every_record_is_kept_or_removed_once():
    rng = random.Random(19)
    originals = [_text(100 + i, rng.randint(5, 300)) for i in range(60)]
    records = _records(*originals, *(rng.choice(originals) for _ in range(30)),
                       *(_edit(t, [len(t) // 2]) for t in rng.sample(originals, 20) if len(t) > 100))
    result = find_duplicates(records)
    kept_ids = {r["id"] for r in result.kept}
    removed_ids = [e["id"] for e in result.removed]
    assert len(kept_ids) + len(removed_ids) == len(records) and not kept_ids & set(removed_ids)
    assert {e["duplicate_of"] for e in result.removed} <= kept_ids
