"""The Compare tab's lists of models, runs and adapters, and which entry each one shows as the workspace changes.

Every list is built from the models the workspace offered when the app started; a run that finishes or saves later
adds an adapter. A list then offers the new set, keeps a pick the viewer made while it is still offered, and moves
a pick left at its default ("base" in the first pane, the newest adapter in the second, …) to the new default, so
a page opened before the first run compares base with that run once it exists rather than base with base.

Pure functions of names; `ModelLists` only records which component is which kind of list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.ui import i18n
from studio.ui.compare_engine import BASE
from studio.ui.compare_inputs import names

PANE, PAIR, TICKS, RUN, ADAPTER = "pane", "pair", "ticks", "run", "adapter"


def run_ids(choices: list[str]) -> list[str]:
    """The runs that have an adapter or checkpoint among `choices`, in their order (newest first)."""
    return list(dict.fromkeys(c.split("@")[0] for c in choices if c != BASE))


def offered(kind: str, choices: list[str]) -> list[str]:
    if kind == RUN:
        return run_ids(choices)
    if kind == ADAPTER:
        return [c for c in choices if c != BASE]
    return list(choices)


def default(kind: str, index: int, choices: list[str]):
    """What a list shows before anyone picks: panes base then the newest adapters, a pair the first two, ticks the
    first two, a run or adapter list its newest."""
    offer = offered(kind, choices)
    if kind == TICKS:
        return offer[:2]
    if kind == PANE:
        return offer[min(index, len(offer) - 1)] if offer else None
    if kind == PAIR:
        return offer[index] if index < len(offer) else None
    return offer[0] if offer else None


def follow(kind: str, index: int, current, old: list[str], new: list[str]):
    """The entry a list shows once the workspace offers `new` where it offered `old`."""
    before, after, offer = default(kind, index, old), default(kind, index, new), offered(kind, new)
    if kind == TICKS:
        ticked = names(current)
        kept = [c for c in ticked if c in offer]
        return after if not kept or sorted(ticked) == sorted(before) else kept
    return current if current in offer and current != before else after


def focus(kind: str, index: int, adapter: str):
    """The entry for opening `adapter` from the Train tab: base beside it wherever two models meet, the adapter in
    Export, its run in the timeline; None for a list it leaves to `follow` (the third and fourth pane)."""
    if kind in (PANE, PAIR):
        return (BASE, adapter)[index] if index < 2 else None
    return {TICKS: [BASE, adapter], RUN: adapter.split("@")[0], ADAPTER: adapter}[kind]


@dataclass
class ModelLists:
    """The lists as the sub-tabs build them: each component with its kind and index, and the refresh buttons."""

    built: list[str]  # the models offered when the tab was built (what every list starts from)
    entries: list[tuple] = field(default_factory=list)  # (component, kind, index)
    buttons: list = field(default_factory=list)

    def add(self, component, kind: str, index: int = 0):
        self.entries.append((component, kind, index))
        return i18n.names_kept_current(component)

    def default(self, kind: str, index: int = 0):
        return default(kind, index, self.built)

    def offered(self, kind: str) -> list[str]:
        return offered(kind, self.built)

    @property
    def components(self) -> list:
        return [component for component, _, _ in self.entries]

    @property
    def kinds(self) -> list[tuple[str, int]]:
        return [(kind, index) for _, kind, index in self.entries]
