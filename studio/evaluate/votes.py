"""Blind A/B votes: randomised sides, an append-only vote file in the workspace, tallies and exports.

A vote records what the voter saw: the prompt, the model shown as A and its answer, the model shown as B and its
answer, the choice ("A", "B", "tie" or "both_bad") and the time (UTC, ISO 8601). `swapped` says whether the
randomiser put the second model of the pairing (as the user picked them) on side A; with it a position bias can
be measured (`side_a_share`), and a vote's sides can be reproduced from the seed.

Votes are appended to WORKSPACE/votes/votes.jsonl, one JSON line per vote written with one write call and
synced to disk, so a killed process or two browser tabs voting at once leave a readable file; a torn last line
is skipped when reading, with a message.

Tallies are per pairing (an unordered pair of model names), seen from one side: the non-"base" model when one of
them is "base" (so the figure reads "the adapter beats the base in x%"), else the alphabetically first. The win
rate is wins / (wins + losses): ties and "both bad" are counted and shown but left out of the rate, because they
say nothing about which model is better. Its 95% interval is Wilson's score interval, which stays inside [0, 1]
and is honest with a handful of votes (the normal approximation is not).

Exports: every vote as CSV, and the decisive votes as preference pairs (JSONL, `prompt`, `chosen`, `rejected`)
for DPO; a vote whose two answers are the same text (after whitespace is collapsed) is left out, since it teaches
nothing.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from studio.evaluate.metrics import normalise_space

CHOICES = ("A", "B", "tie", "both_bad")
BASE = "base"  # the name the chat engine gives the base model (adapters disabled)
Z_95 = 1.959963984540054  # two-sided 95% normal quantile


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Vote:
    prompt: str
    """The last user message, as shown."""
    model_a: str
    model_b: str
    output_a: str
    output_b: str
    choice: str
    """"A", "B", "tie" or "both_bad"."""
    swapped: bool = False
    """True when the second model of the pairing (as picked) was shown as A."""
    time: str = field(default_factory=_now)
    messages: list[dict] | None = None
    """The whole conversation sent to both models (system prompt, earlier turns), when there was more than the
    prompt."""

    def __post_init__(self) -> None:
        if self.choice not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}, got {self.choice!r}")
        if self.model_a == self.model_b:
            raise ValueError(f"both sides are {self.model_a!r}; a vote needs two different models")

    @property
    def winner(self) -> str | None:
        return {"A": self.model_a, "B": self.model_b}.get(self.choice)

    @property
    def loser(self) -> str | None:
        return {"A": self.model_b, "B": self.model_a}.get(self.choice)


@dataclass(frozen=True)
class Sides:
    a: str
    b: str
    swapped: bool


def randomise_sides(first: str, second: str, rng: random.Random) -> Sides:
    """Which model is shown as A: a fair coin from `rng` (random.Random(seed) makes a session reproducible)."""
    swapped = rng.random() < 0.5
    return Sides(second, first, True) if swapped else Sides(first, second, False)


def votes_path(workspace: Any) -> Path:
    """WORKSPACE/votes/votes.jsonl, for a studio.workspace.Workspace or its root folder."""
    root = workspace if isinstance(workspace, (str, os.PathLike)) else workspace.root  # Path has .root too: "/"
    return Path(root) / "votes" / "votes.jsonl"


def append_vote(path: str | os.PathLike, vote: Vote) -> None:
    """Append one vote as one JSON line, fsynced before returning.

    The line goes out in one write() on an O_APPEND descriptor (not through a buffered file, which splits long
    lines into 8 KiB writes), so votes saved at the same moment by two tabs never interleave within a line."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(asdict(vote), ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):  # a regular file takes it whole; finish anyway if the OS returned short
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def read_votes(path: str | os.PathLike) -> tuple[list[Vote], list[str]]:
    """Every readable vote, and a message ("votes.jsonl:7: ...") for each line that is not one; no file: none."""
    target = Path(path)
    if not target.is_file():
        return [], []
    names = {f.name for f in fields(Vote)}
    votes, problems = [], []
    with open(target, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                votes.append(Vote(**{k: v for k, v in record.items() if k in names}))
            except (ValueError, TypeError, AttributeError) as exc:
                problems.append(f"{target.name}:{number}: not a vote ({exc}); the line was skipped (a torn last "
                                f"line means a vote was being saved when the studio stopped)")
    return votes, problems


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval of a binomial proportion; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class PairTally:
    """The votes of one pairing, seen from `model` against `opponent`."""

    model: str
    opponent: str
    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0

    @property
    def votes(self) -> int:
        return self.wins + self.losses + self.ties + self.both_bad

    @property
    def decisive(self) -> int:
        return self.wins + self.losses

    @property
    def win_rate(self) -> float | None:
        """wins / (wins + losses); ties and both-bad are left out. None without a decisive vote."""
        return self.wins / self.decisive if self.decisive else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.wins, self.decisive)

    def to_dict(self) -> dict:
        low, high = self.interval or (None, None)
        return {**asdict(self), "votes": self.votes, "win_rate": self.win_rate, "ci_low": low, "ci_high": high}


def _orientation(a: str, b: str) -> tuple[str, str]:
    if BASE in (a, b):
        return (b, a) if a == BASE else (a, b)
    return tuple(sorted((a, b)))  # type: ignore[return-value]


def tally(votes: Iterable[Vote]) -> list[PairTally]:
    """One tally per pairing, most votes first."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for vote in votes:
        model, opponent = _orientation(vote.model_a, vote.model_b)
        row = counts.setdefault((model, opponent), {"wins": 0, "losses": 0, "ties": 0, "both_bad": 0})
        if vote.choice == "tie":
            row["ties"] += 1
        elif vote.choice == "both_bad":
            row["both_bad"] += 1
        else:
            row["wins" if vote.winner == model else "losses"] += 1
    tallies = [PairTally(model, opponent, **row) for (model, opponent), row in counts.items()]
    return sorted(tallies, key=lambda t: (-t.votes, t.model, t.opponent))


def side_a_share(votes: Iterable[Vote]) -> tuple[float | None, int]:
    """(share of decisive votes that went to side A, decisive votes): near 0.5 when voters have no side bias."""
    decisive = [vote.choice for vote in votes if vote.choice in ("A", "B")]
    return (decisive.count("A") / len(decisive) if decisive else None), len(decisive)


CSV_COLUMNS = ("time", "model_a", "model_b", "choice", "winner", "swapped", "prompt", "output_a", "output_b")


def votes_csv(votes: Sequence[Vote]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for vote in votes:
        writer.writerow([vote.time, vote.model_a, vote.model_b, vote.choice, vote.winner or "", vote.swapped,
                         vote.prompt, vote.output_a, vote.output_b])
    return buffer.getvalue()


def preference_pairs(votes: Iterable[Vote], conversational: bool = False) -> list[dict]:
    """{"prompt", "chosen", "rejected"} for every decisive vote with two different answers.

    Plain text by default; `conversational` gives TRL's conversational form instead (prompt: the messages,
    chosen/rejected: one assistant message each), which keeps a system prompt and earlier turns.
    """
    pairs = []
    for vote in votes:
        if vote.winner is None:
            continue
        chosen, rejected = (vote.output_a, vote.output_b) if vote.choice == "A" else (vote.output_b, vote.output_a)
        if normalise_space(chosen) == normalise_space(rejected):
            continue
        if conversational:
            prompt = vote.messages or [{"role": "user", "content": vote.prompt}]
            pairs.append({"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                          "rejected": [{"role": "assistant", "content": rejected}]})
        else:
            pairs.append({"prompt": vote.prompt, "chosen": chosen, "rejected": rejected})
    return pairs
