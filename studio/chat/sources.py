"""Adapters the Compare tab can offer: each run's final adapter and each of its checkpoints, named for people.

A choice is "<run_id>" for the run's adapter/ folder, or "<run_id>@checkpoint-<N>" for a checkpoint; both are
PEFT adapter folders (adapter_config.json + weights). Full fine-tuning runs save a whole model instead, which is
not an adapter of the base and is left out. Pure file listing: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.train.checkpoints import list_checkpoints
from studio.train.events import read_status
from studio.workspace import NAME_PATTERN, Workspace


@dataclass(frozen=True)
class AdapterSource:
    name: str  # what the UI shows and the engine calls it
    path: Path
    run_id: str
    step: int | None  # the checkpoint's step; None for the final adapter
    base_model: str  # the model reference of the run's recipe


def is_adapter(folder: Path) -> bool:
    return (folder / "adapter_config.json").is_file()


def list_adapters(ws: Workspace) -> list[AdapterSource]:
    """Every loadable adapter in the workspace's runs, newest run first, final adapter before its checkpoints."""
    found: list[AdapterSource] = []
    runs = sorted((p for p in ws.runs.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name)), reverse=True)
    for run in runs:
        base = read_status(run).get("model", "")
        if is_adapter(run / "adapter"):
            found.append(AdapterSource(run.name, run / "adapter", run.name, None, base))
        for checkpoint in reversed(list_checkpoints(run)):
            if is_adapter(checkpoint):
                step = int(checkpoint.name.split("-")[1])
                found.append(AdapterSource(f"{run.name}@{checkpoint.name}", checkpoint, run.name, step, base))
    return found


def find_adapter(ws: Workspace, name: str) -> AdapterSource:
    for source in list_adapters(ws):
        if source.name == name:
            return source
    raise FileNotFoundError(f"no adapter named {name!r} in {ws.runs}; finish or stop a run to save one")
