"""A run's checkpoints: which exist, whether each can be resumed from, and which one a resume should use.

A checkpoint is resumable when its trainer state parses, its weights file is a whole safetensors file, and its
optimizer/scheduler files are intact archives. A worker killed mid-save, a full disk or a copied-in folder can
leave any of these broken; resume then falls back to the newest good one and says why.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

CHECKPOINTS_DIR = "checkpoints"
_NAME = re.compile(r"^checkpoint-(\d+)$")
WEIGHT_FILES = ("adapter_model.safetensors", "model.safetensors")
ARCHIVES = ("optimizer.pt", "scheduler.pt")
# A multi-GPU run's optimizer state may live elsewhere: DeepSpeed writes per-rank shards under global_step<N>/,
# FSDP writes optimizer.bin (full state dict) or optimizer_0/ (sharded). Their presence stands in for
# optimizer.pt; an optimizer.bin is checked like the archives, the shard folders are not opened.
SHARDED_OPTIMIZER = ("global_step*", "optimizer_0")


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Checkpoint folders of a run, oldest (lowest step) first."""
    folder = Path(run_dir) / CHECKPOINTS_DIR
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def checkpoint_step(path: str | Path) -> int:
    m = _NAME.match(Path(path).name)
    if not m:
        raise ValueError(f"{path}: not a checkpoint folder (checkpoint-<step>)")
    return int(m.group(1))


def _check_safetensors(path: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        for key in handle.keys():
            handle.get_slice(key)  # reading each slice header catches a file truncated after its header


def problem(path: str | Path) -> str | None:
    """Why this checkpoint cannot be resumed from, or None when it can."""
    folder = Path(path)
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        if "global_step" not in state:
            return "trainer_state.json has no global_step"
    except (OSError, ValueError) as exc:
        return f"trainer_state.json unreadable ({exc.__class__.__name__})"
    weights = [folder / name for name in WEIGHT_FILES if (folder / name).is_file()]
    if not weights:
        return "no weights file (adapter_model.safetensors or model.safetensors)"
    try:
        expected = weights[0].stat().st_size
        _check_safetensors(weights[0])
        if weights[0].stat().st_size != expected:
            return f"{weights[0].name} changed while being checked"
    except Exception as exc:  # safetensors raises its own error types for every kind of damage
        return f"{weights[0].name} is damaged ({exc})"
    for name in ARCHIVES:
        archive = folder / name
        if name == "optimizer.pt" and not archive.is_file():
            if (folder / "optimizer.bin").is_file():
                archive = folder / "optimizer.bin"
            elif any(p.is_dir() for pattern in SHARDED_OPTIMIZER for p in folder.glob(pattern)):
                continue
        if not archive.is_file():
            return f"{name} missing"
        try:
            with zipfile.ZipFile(archive) as handle:
                bad = handle.testzip()
        except (OSError, zipfile.BadZipFile) as exc:
            return f"{archive.name} is damaged ({exc})"
        if bad is not None:
            return f"{archive.name} is damaged (bad member {bad})"
    return None


def choose_resume(run_dir: str | Path, wanted: str = "latest") -> tuple[Path | None, list[str]]:
    """The checkpoint to resume from and messages about the ones skipped.

    `wanted` is "latest" or a checkpoint name/path; when it is damaged, the newest good checkpoint before it is
    used instead. Returns (None, messages) when no checkpoint is good.
    """
    checkpoints = list_checkpoints(run_dir)
    if wanted != "latest":
        step = checkpoint_step(wanted)
        checkpoints = [p for p in checkpoints if checkpoint_step(p) <= step]
        if not checkpoints or checkpoint_step(checkpoints[-1]) != step:
            raise FileNotFoundError(f"{wanted}: no such checkpoint in {Path(run_dir) / CHECKPOINTS_DIR}")
    messages = []
    for path in reversed(checkpoints):
        why = problem(path)
        if why is None:
            return path, messages
        messages.append(f"{path.name} cannot be resumed from: {why}; trying the one before it")
    return None, messages
