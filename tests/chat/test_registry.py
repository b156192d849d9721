"""The process-wide registry: the Train tab frees every loaded chat model, even one in the middle of an answer."""

from __future__ import annotations

import threading
import weakref

import pytest

from studio.chat import BASE, ChatEngine, GenerationSettings, registry

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture(autouse=True)
def own_registry(monkeypatch):
    """An empty registry for each test: release_all must not unload engines other tests are still using."""
    monkeypatch.setattr(registry, "_engines", weakref.WeakSet())


def test_release_all_unloads_every_engine_and_says_which(tiny_config, adapter_dirs):
    first, second = ChatEngine(tiny_config), ChatEngine(tiny_config)
    registry.register(first)  # idempotent: engines register themselves
    second.add_adapter("A", adapter_dirs["A"])
    assert set(registry.loaded_engines()) == {first, second}
    released = registry.release_all()
    assert sorted(released) == sorted([first.describe(), f"{tiny_config.name_or_path} (full precision on cpu) "
                                                         "+ adapters A"])
    assert not first.loaded and not second.loaded
    with pytest.raises(RuntimeError, match="was unloaded"):
        first.generate(BASE, MESSAGES, GenerationSettings())
    assert registry.release_all() == []


def test_release_during_a_stream_ends_it_and_frees_the_weights(tiny_config, adapter_dirs):
    chat = ChatEngine(tiny_config)
    chat.add_adapter("B", adapter_dirs["B"])
    started, chunks = threading.Event(), []

    def pane():
        for chunk in chat.stream("B", MESSAGES, GenerationSettings(max_new_tokens=2000)):
            chunks.append(chunk)
            started.set()

    thread = threading.Thread(target=pane)
    thread.start()
    assert started.wait(30)
    released = registry.release_all()
    thread.join(30)
    assert not thread.is_alive()
    assert any("+ adapters B" in line for line in released)
    assert chunks[-1].done and chunks[-1].finish_reason == "unloaded" and chunks[-1].n_tokens < 2000
    assert not chat.loaded and chat.names == [BASE]
