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
from studio.workspace import Workspace

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
            return self._engine

    def loaded(self) -> list[str]:
        return list(self._engine.names) if self._engine is not None and self._engine.loaded else []
