"""The Compare tab's one chat engine per app process: the base loaded once on first use, adapters attached by the
names the workspace gives them (a run id, or run@checkpoint-N).

Every browser session shares it, because the point is one copy of the base weights; generation is serialised by the
engine itself. The Train tab frees it through `studio.chat.registry` before a run needs the GPU.
"""

from __future__ import annotations

import threading
from typing import Any

from studio.chat.sources import find_adapter, list_adapters
from studio.config import ModelConfig
from studio.train.events import LIVE_STATES, read_status
from studio.workspace import NAME_PATTERN, Workspace

BASE = "base"


class EngineHolder:
    def __init__(self, ws: Workspace, model: str):
        self.ws, self.model = ws, model
        self._engine: Any = None
        self._lock = threading.Lock()

    def choices(self) -> list[str]:
        """"base" and every adapter of this base model in the workspace, newest run first."""
        return [BASE] + [s.name for s in list_adapters(self.ws) if s.base_model in ("", self.model)]

    def engine(self, names: list[str] = ()) -> Any:
        """The engine with every name in `names` attached (loading the base on first use)."""
        from studio.chat.engine import ChatEngine  # registers itself with studio.chat.registry

        with self._lock:
            if self._engine is None or not self._engine.loaded:  # never loaded, or freed for a training run
                self._engine = ChatEngine(ModelConfig(name_or_path=self.model))
            for name in names:
                if name not in self._engine.names:
                    self._engine.add_adapter(name, find_adapter(self.ws, name).path)
            share_cores(self.ws)
            return self._engine

    def loaded(self) -> list[str]:
        return list(self._engine.names) if self._engine is not None and self._engine.loaded else []


def training_now(ws: Workspace) -> bool:
    return any(read_status(folder).get("state") in LIVE_STATES for folder in ws.runs.iterdir()
               if folder.is_dir() and NAME_PATTERN.match(folder.name))


def generation_threads(cores: int, training: bool) -> int:
    """Threads for CPU generation: all cores, or half of them (at least one) while a run trains. Two processes
    each running a full team of OpenMP threads on the same cores wait on each other: on 2 cores the run fell to
    a fifth of its speed while using less than one core (benchmarks/load.py)."""
    return max(1, cores // 2) if training else cores


_DEFAULT_THREADS: list[int] = []  # torch's own choice, read before the first change


def share_cores(ws: Workspace) -> None:
    import torch

    if not _DEFAULT_THREADS:
        _DEFAULT_THREADS.append(torch.get_num_threads())
    torch.set_num_threads(generation_threads(_DEFAULT_THREADS[0], training_now(ws)))
