"""Every chat engine loaded in this process, so the Train tab can free the GPU before a run.

Engines register themselves when they load; the registry holds them weakly, so an engine the UI dropped is
not kept alive by it. `release_all` unloads each one still loaded and says what it unloaded, for the message
the user sees ("Unloaded the chat model … to free memory for training").
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Protocol


class Unloadable(Protocol):
    @property
    def loaded(self) -> bool: ...

    def describe(self) -> str: ...

    def unload(self) -> None: ...


_lock = threading.Lock()
_engines: "weakref.WeakSet[Any]" = weakref.WeakSet()


def register(engine: Unloadable) -> None:
    """Track `engine` (idempotent; ChatEngine calls this itself)."""
    with _lock:
        _engines.add(engine)


def loaded_engines() -> list[Any]:
    """The registered engines that still hold weights."""
    with _lock:
        return [e for e in list(_engines) if e.loaded]


def release_all() -> list[str]:
    """Unload every registered engine; one description per engine that held weights, in no particular order.

    An engine in the middle of a generation stops after its current token, then unloads."""
    with _lock:
        engines = list(_engines)
        _engines.clear()
    released = []
    for engine in engines:  # unloading waits for the engine's own lock: never while holding the registry's
        if engine.loaded:
            description = engine.describe()
            engine.unload()
            released.append(description)
    return released
