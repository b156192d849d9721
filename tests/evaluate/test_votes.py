"""Blind A/B votes: sides, the append-only file, tallies with Wilson intervals, CSV and DPO pairs."""

import csv
import io
import json
import random

import pytest

from studio.evaluate.votes import (Vote, append_vote, preference_pairs, randomise_sides, read_votes, side_a_share,
                                   tally, votes_csv, votes_path, wilson_interval)


def _vote(a, b, choice, out_a="answer a", out_b="answer b", prompt="p", **extra):
    return Vote(prompt=prompt, model_a=a, model_b=b, output_a=out_a, output_b=out_b, choice=choice, **extra)


def test_sides_are_a_fair_seedable_coin():
    seeded = [random.Random(3), random.Random(3)]
    assert [randomise_sides("base", "lora", seeded[0]) for _ in range(20)] == \
        [randomise_sides("base", "lora", seeded[1]) for _ in range(20)]
    rng = random.Random(0)
    sides = [randomise_sides("base", "lora", rng) for _ in range(2000)]
    assert all({s.a, s.b} == {"base", "lora"} and s.swapped == (s.a == "lora") for s in sides)
    assert 900 < sum(s.swapped for s in sides) < 1100


def test_votes_are_appended_and_read_back_with_torn_lines_skipped(tmp_path):
    from studio.workspace import Workspace

    path = votes_path(tmp_path)
    assert path == tmp_path / "votes" / "votes.jsonl" == votes_path(Workspace(tmp_path))
    assert read_votes(path) == ([], [])
    append_vote(path, _vote("lora", "base", "A", swapped=True, messages=[{"role": "user", "content": "p"}]))
    append_vote(path, _vote("base", "lora", "tie", prompt="明天6点叫醒我", out_a="长" * 20_000))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"prompt": "half a vo')  # the process died mid-write
    votes, problems = read_votes(path)
    assert [v.choice for v in votes] == ["A", "tie"] and votes[0].swapped and votes[1].prompt == "明天6点叫醒我"
    assert votes[1].output_a == "长" * 20_000
    assert votes[0].winner == "lora" and votes[0].loser == "base" and votes[1].winner is None
    assert votes[0].time.endswith("+00:00")
    assert len(problems) == 1 and problems[0].startswith("votes.jsonl:3: not a vote")
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(record) == {"prompt", "model_a", "model_b", "output_a", "output_b", "choice", "swapped", "time",
                           "messages"}


def test_a_vote_needs_a_known_choice_and_two_models():
    with pytest.raises(ValueError, match="choice must be one of A, B, tie, both_bad"):
        _vote("a", "b", "left")
    with pytest.raises(ValueError, match="two different models"):
        _vote("a", "a", "A")


def test_wilson_interval_by_hand():
    # 8 of 10: p = 0.8, z = 1.96: centre (0.8 + 0.19208) / 1.38415 = 0.71679, half 0.22658
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), pytest.approx(1.0))
    assert wilson_interval(0, 0) is None


def test_tally_per_unordered_pair_seen_from_the_adapter_ties_out_of_the_rate():
    votes = [_vote("base", "lora", "B"), _vote("lora", "base", "A"), _vote("lora", "base", "B"),
             _vote("base", "lora", "tie"), _vote("lora", "base", "both_bad"), _vote("lora", "base", "A"),
             _vote("x2", "x1", "A")]
    lora, other = tally(votes)
    assert (lora.model, lora.opponent) == ("lora", "base")
    assert (lora.wins, lora.losses, lora.ties, lora.both_bad, lora.votes, lora.decisive) == (3, 1, 1, 1, 6, 4)
    assert lora.win_rate == 0.75
    row = lora.to_dict()
    assert row["win_rate"] == 0.75 and row["ci_low"] == pytest.approx(wilson_interval(3, 4)[0])
    assert (other.model, other.opponent, other.wins, other.losses) == ("x1", "x2", 0, 1)  # alphabetical side
    assert tally([_vote("a", "base", "tie")])[0].win_rate is None


def test_side_a_share_measures_position_bias():
    votes = [_vote("a", "b", "A"), _vote("b", "a", "A"), _vote("a", "b", "B"), _vote("a", "b", "tie")]
    assert side_a_share(votes) == (pytest.approx(2 / 3), 3)
    assert side_a_share([]) == (None, 0)


def test_csv_has_every_vote_with_its_winner():
    text = votes_csv([_vote("lora", "base", "A", out_a='say "hi",\nthen'), _vote("lora", "base", "both_bad")])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["winner"] for r in rows] == ["lora", ""] and rows[0]["output_a"] == 'say "hi",\nthen'


def test_preference_pairs_only_from_decisive_votes_with_different_answers():
    messages = [{"role": "system", "content": "JSON only"}, {"role": "user", "content": "p"}]
    votes = [_vote("lora", "base", "A", out_a="good", out_b="bad"),
             _vote("base", "lora", "B", out_a="bad", out_b="good", messages=messages),
             _vote("lora", "base", "tie"), _vote("lora", "base", "both_bad"),
             _vote("lora", "base", "A", out_a="same  answer", out_b="same answer")]
    assert preference_pairs(votes) == [{"prompt": "p", "chosen": "good", "rejected": "bad"}] * 2
    conversational = preference_pairs(votes, conversational=True)
    assert conversational[1]["prompt"] == messages
    assert conversational[0]["prompt"] == [{"role": "user", "content": "p"}]
    assert conversational[0]["chosen"] == [{"role": "assistant", "content": "good"}]
