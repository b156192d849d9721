"""Stopping long quality jobs: the caller passes a check, the job raises `Cancelled` before writing anything."""

from collections.abc import Callable

CancelCheck = Callable[[], bool]


class Cancelled(Exception):
    """The caller's cancel check returned True; nothing was written and no partial result is returned."""
