"""The Configure tab's count of the recipe's data set: the worker's own count (`studio.data.accounting`), cached
per file version and format, and its refusal shown as a problem of the field that fixes it."""

from __future__ import annotations

import functools

from studio.config import Recipe
from studio.data.accounting import OTHER_FORMAT, RecordCount, read_for_training
from studio.data.versions import dataset_file
from studio.recipe_io import FieldError, RecipeError
from studio.ui.i18n import tr
from studio.workspace import Workspace


@functools.lru_cache(maxsize=16)
def count_examples(path: str, mtime: float, fmt: str) -> RecordCount:
    """Every record of a data file as the worker counts it under data.format `fmt` (cached: the form re-checks
    on every edit)."""
    return read_for_training(path, fmt)[1]


def record_count(ws: Workspace, recipe: Recipe) -> RecordCount | None:
    """The count for the recipe's data set; None when it cannot be found (the step readout says why)."""
    try:
        path = dataset_file(ws, recipe.data.dataset)
        return count_examples(str(path), path.stat().st_mtime, recipe.data.format)
    except (FileNotFoundError, ValueError):
        return None


def data_problem(count: RecordCount | None) -> FieldError | None:
    """The worker's refusal of the data set, on the field that fixes it; None when the set trains."""
    if count is None or not count.refusal:
        return None
    if count.refusal == OTHER_FORMAT:
        kinds = ", ".join(f"{n} {name}" for name, n in count.other_formats.items())
        return FieldError("data.format", tr(
            "{other} of {records} records are not {format} records ({kinds}): only {read} would train. Choose "
            "auto to train every record by its own format (or {suggested} to train only those), or split the "
            "data set by format.", other=count.other, records=count.records, format=count.format, kinds=kinds,
            read=count.read, suggested=count.suggested_format))
    return FieldError("data.dataset", tr("No usable records ({invalid} fit no format); the Data tab names each one "
                                         "and the fix.", invalid=count.invalid))


def check_data(ws: Workspace, recipe: Recipe) -> Recipe:
    """The recipe unchanged, or a RecipeError with the worker's refusal of its data set."""
    problem = data_problem(record_count(ws, recipe))
    if problem:
        raise RecipeError([problem])
    return recipe


def dropped_note(count: RecordCount) -> str:
    """The records the run will drop, for the step readout ("" when none)."""
    if not count.invalid:
        return ""
    return " · " + tr("{invalid} of {records} records dropped: they fit no format (the Data tab names each)",
                      invalid=count.invalid, records=count.records)
