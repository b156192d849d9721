"""Named, versioned datasets in the workspace: datasets/<name>/v<N>/ with data.jsonl, meta.json and removed.jsonl.

A version is written into a temp folder and renamed into place, so it appears whole or not at all, and a version
once written is never modified: filters and edits make a new version that names its parent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from studio.workspace import NAME_PATTERN, Workspace, atomic_write_jsonl, atomic_write_text

_VERSION = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class DatasetVersion:
    name: str
    version: str
    path: Path

    @property
    def ref(self) -> str:
        """How recipes and the UI name it: name@version."""
        return f"{self.name}@{self.version}"

    @property
    def data_file(self) -> Path:
        return self.path / "data.jsonl"

    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))


def check_dataset_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise ValueError(f"dataset name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
                         f"letter or digit")
    return name


def list_versions(ws: Workspace, name: str) -> list[DatasetVersion]:
    folder = ws.datasets / check_dataset_name(name)
    found = [(int(m.group(1)), p) for p in folder.glob("v*") if (m := _VERSION.match(p.name)) and p.is_dir()]
    return [DatasetVersion(name, p.name, p) for _, p in sorted(found)]


def list_datasets(ws: Workspace) -> list[DatasetVersion]:
    """The newest version of every dataset, by name."""
    names = sorted(p.name for p in ws.datasets.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name))
    return [versions[-1] for name in names if (versions := list_versions(ws, name))]


def save_version(ws: Workspace, name: str, records: Iterable[dict], *, operation: str, parameters: dict,
                 parent: str | None = None, removed: Iterable[dict] = ()) -> DatasetVersion:
    """Write the next version of `name`; `removed` lists every record dropped from the parent and why."""
    folder = ws.datasets / check_dataset_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".staging-"))
    try:
        count = atomic_write_jsonl(staging / "data.jsonl", records)
        dropped = atomic_write_jsonl(staging / "removed.jsonl", removed)
        meta = {"name": name, "parent": parent, "operation": operation, "parameters": parameters,
                "counts": {"records": count, "removed": dropped}, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        return _publish(folder, staging, name, meta)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(folder: Path, staging: Path, name: str, meta: dict) -> DatasetVersion:
    # Two saves at once may pick the same number; rename refuses an existing folder, so the loser takes the next.
    for _ in range(100):
        number = 1 + max((int(m.group(1)) for p in folder.iterdir() if (m := _VERSION.match(p.name))), default=0)
        meta["version"] = f"v{number}"
        atomic_write_text(staging / "meta.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        try:
            os.rename(staging, folder / f"v{number}")
        except OSError:
            continue
        return DatasetVersion(name, f"v{number}", folder / f"v{number}")
    raise RuntimeError(f"could not publish a new version of {name} in {folder}")


def resolve_dataset(ws: Workspace, ref: str) -> DatasetVersion:
    """name@vN, or a bare name for its newest version."""
    name, _, version = ref.partition("@")
    versions = list_versions(ws, name)
    if not versions:
        raise FileNotFoundError(f"dataset {name!r} has no versions in {ws.datasets}")
    if not version:
        return versions[-1]
    for candidate in versions:
        if candidate.version == version:
            return candidate
    raise FileNotFoundError(f"dataset {name!r} has no version {version!r}; it has "
                            + ", ".join(v.version for v in versions))


def dataset_file(ws: Workspace, ref: str) -> Path:
    """The data file behind a recipe's data.dataset: bundled:<name>, <name>@<version>, a workspace dataset name,
    or a path to a file."""
    from studio.assets import resolve_bundled  # assets import nothing from here; kept local to stay light
    from studio.config import BUNDLED_PREFIX

    if ref.startswith(BUNDLED_PREFIX):
        return resolve_bundled(ref)
    if "@" in ref or (NAME_PATTERN.match(ref) and (ws.datasets / ref).is_dir()):
        return resolve_dataset(ws, ref).data_file
    path = Path(ref).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"data.dataset {ref!r}: no such file, workspace dataset or bundled sample")
    return path
