"""Which local files and folders the web UI may open: the workspace, the bundled assets, and folders the user allowed.

Anyone who can reach the UI (everyone on this machine, or whoever has the password when it listens elsewhere) can
type a path into it, so every model, adapter and dataset path the UI accepts is checked here before anything reads
it. Symlinks are resolved first, so a link inside the workspace that points elsewhere counts as elsewhere. A Hub id
(`org/name` that is no local path) and a `bundled:` name stay allowed.

The command line is not limited: it runs as the user, in their shell, with their file permissions already.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from studio.assets import ASSETS_DIR
from studio.config import BUNDLED_PREFIX, Recipe
from studio.recipe_io import FieldError, RecipeError
from studio.workspace import NAME_PATTERN, Workspace

ALLOW_FLAG = "--allow-path"
ALLOW_ENV = "STUDIO_ALLOWED_PATHS"  # folders separated by os.pathsep, like PATH
# Hub ids are "name" or "org/name" (the rule studio.models applies); anything else is read as a local path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


class PathNotAllowed(ValueError):
    """A local path outside the folders the UI may open."""


def allowed_roots(ws: Workspace) -> tuple[Path, ...]:
    return (ws.root, ASSETS_DIR, *ws.allowed_paths)


def allows(ws: Workspace, path: str | os.PathLike) -> bool:
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a symlink loop, ~user that does not exist
        return False
    return any(resolved == root or root in resolved.parents for root in allowed_roots(ws))


def check_local(ws: Workspace, path: str | os.PathLike, what: str = "path") -> Path:
    """The resolved path, or PathNotAllowed naming it and how to allow it. Whether it exists is not said, so the
    message cannot be used to probe the disk."""
    if not allows(ws, path):
        raise PathNotAllowed(f"{what} {str(path)!r} is outside the folders this UI may open (the workspace "
                             f"{ws.root} and the bundled assets). Copy it into the workspace, or restart the studio "
                             f"with {ALLOW_FLAG} FOLDER (or {ALLOW_ENV}) to allow the folder that holds it.")
    return Path(path).expanduser().resolve()


def is_local(ref: str) -> bool:
    """True when `ref` names a local path: it exists, or it cannot be a Hub id (starts with /, ., ~, has a drive
    or backslash, or more than one '/')."""
    ref = ref.strip()
    if not ref:
        return False
    if not _HUB_ID.match(ref):
        return True
    try:
        return Path(ref).exists()  # Hub-id shaped, so no '~' to expand
    except OSError:
        return True


def check_model_ref(ws: Workspace, ref: str, what: str = "model") -> str:
    """A model or tokenizer reference as typed: bundled:, a Hub id, or a local folder within the allowed roots."""
    if ref.strip().startswith(BUNDLED_PREFIX) or not is_local(ref):
        return ref
    check_local(ws, ref.strip(), what)
    return ref


def check_dataset_ref(ws: Workspace, ref: str, what: str = "dataset") -> str:
    """A recipe's data set: bundled:, a workspace dataset (name or name@version) or a file within the allowed
    roots. Workspace dataset names match NAME_PATTERN (no separator), so they cannot leave WORKSPACE/datasets."""
    name = ref.strip().partition("@")[0]
    if ref.strip().startswith(BUNDLED_PREFIX) or (NAME_PATTERN.match(name) and "@" in ref):
        return ref
    if NAME_PATTERN.match(name) and (ws.datasets / name).is_dir():
        return ref
    if is_local(ref):  # what is neither local nor a workspace dataset opens nothing: the loader reports it missing
        check_local(ws, ref.strip(), what)
    return ref


def recipe_path_errors(ws: Workspace, recipe: Recipe) -> list[FieldError]:
    """Every local path of the recipe that the UI must not open, by field."""
    checks = [("model.name_or_path", check_model_ref, recipe.model.name_or_path),
              ("data.dataset", check_dataset_ref, recipe.data.dataset),
              ("data.mix_general_dataset", check_dataset_ref, recipe.data.mix_general_dataset)]
    # FieldError names the field already, so the message names only the path.
    errors = []
    for field, check, value in checks:
        if not value:
            continue
        try:
            check(ws, value, "the path")
        except PathNotAllowed as exc:
            errors.append(FieldError(field, str(exc)))
    return errors


def check_recipe_paths(ws: Workspace, recipe: Recipe) -> Recipe:
    """The recipe unchanged, or a RecipeError listing each field whose path lies outside the allowed roots."""
    errors = recipe_path_errors(ws, recipe)
    if errors:
        raise RecipeError(errors)
    return recipe


def parse_allowed(values: list[str] | tuple[str, ...] = (), environ: dict | None = None) -> tuple[Path, ...]:
    """Folders from `--allow-path` (repeatable) and $STUDIO_ALLOWED_PATHS, resolved; each must be an existing folder."""
    env = os.environ if environ is None else environ
    raw = [*values, *(p for p in env.get(ALLOW_ENV, "").split(os.pathsep) if p.strip())]
    folders = []
    for value in raw:
        folder = Path(value.strip()).expanduser().resolve()
        if not folder.is_dir():
            raise ValueError(f"{ALLOW_FLAG} {value}: no such folder (give an existing folder to allow)")
        if folder not in folders:
            folders.append(folder)
    return tuple(folders)
