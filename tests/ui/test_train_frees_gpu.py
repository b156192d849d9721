"""Before a run takes the GPU, the Compare tab's chat model is unloaded and the user is told."""

from __future__ import annotations

import torch

from studio.chat.engine import ChatEngine
from studio.config import ModelConfig
from studio.recipe_io import recipe_from_dict
from studio.ui.train import free_gpu_for


def test_a_gpu_run_unloads_chat_models_and_a_cpu_run_leaves_them(tiny_model_dir, monkeypatch):
    import weakref

    from studio.chat import registry

    monkeypatch.setattr(registry, "_engines", weakref.WeakSet())  # only this test's engine may be released
    engine = ChatEngine(ModelConfig(name_or_path=str(tiny_model_dir)), device="cpu")
    assert free_gpu_for(recipe_from_dict({"runtime": {"device": "cpu"}})) == ""
    assert engine.loaded
    # This machine has no GPU; say it has one, as the check is only about whether the run would use it.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    message = free_gpu_for(recipe_from_dict({"runtime": {"device": "auto"}}))
    assert "Unloaded" in message and str(tiny_model_dir) in message
    assert not engine.loaded
