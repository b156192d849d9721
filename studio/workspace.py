"""The workspace on disk: where datasets, reports and runs live, safe names, and atomic writes.

Layout (DESIGN.md): datasets/<name>/<version>/, reports/<name>/<version>/, runs/<run_id>/. The root is
`--workspace`, else $STUDIO_HOME, else ./workspace.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

SUBDIRS = ("datasets", "reports", "runs", "uploads")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Names the studio makes folders and files from (runs, recipes, datasets): safe on every file system and shell.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def default_root() -> Path:
    return Path(os.environ.get("STUDIO_HOME") or "workspace")


@dataclass(frozen=True)
class Workspace:
    root: Path
    # Folders outside the workspace that the web UI may also open (--allow-path); see studio.paths.
    allowed_paths: tuple[Path, ...] = ()

    @classmethod
    def open(cls, root: str | os.PathLike | None = None, allowed_paths: tuple[Path, ...] = ()) -> "Workspace":
        """Create the folders if missing; the root is resolved so every path shown to the user is absolute."""
        ws = cls(Path(root if root is not None else default_root()).expanduser().resolve(), tuple(allowed_paths))
        for sub in SUBDIRS:
            (ws.root / sub).mkdir(parents=True, exist_ok=True)
        return ws

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    def inside(self, path: str | os.PathLike) -> Path:
        """Resolve `path` and refuse it unless it lies within the workspace (symlinks followed)."""
        resolved = Path(path).expanduser().resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise ValueError(f"{path}: outside the workspace {self.root}; move the file into it or pick another.")
        return resolved


def safe_name(name: str, fallback: str = "file") -> str:
    """A file name that cannot leave its folder: no separators, no '..', no hidden or empty names.

    Letters outside ASCII are transliterated where NFKD allows and dropped otherwise, because these names end up
    in paths that shells and other tools must handle.
    """
    base = name.replace("\\", "/").split("/")[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-")
    return cleaned[:128] or fallback


def safe_file_name(name: str, fallback: str = "upload") -> str:
    """`safe_name` that keeps the file's extension, which says how it is read: `客服对话.json` → `upload.json`,
    not `json` (the whole name is non-ASCII, so the stem transliterates to nothing)."""
    base = name.replace("\\", "/").split("/")[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem.strip("."):  # no extension, or a dotfile such as ".env"
        return safe_name(base, fallback)
    return f"{safe_name(stem, fallback)}.{safe_name(suffix, 'txt')}"


@contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[TextIO]:
    """A text handle on a temp file beside `path`, renamed over it only if the block finishes.

    A crash or an exception leaves the previous file (or no file) in place, never a half-written one.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path) as handle:
        handle.write(text)


def atomic_write_jsonl(path: str | os.PathLike, records: Iterable[dict]) -> int:
    """Stream records as UTF-8 JSON lines (CJK kept readable); returns how many were written."""
    count = 0
    with atomic_open(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
