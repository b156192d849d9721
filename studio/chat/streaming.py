"""Token-by-token output of a generation thread: a TextIteratorStreamer that queues the whole answer so far with
its token count and timings, and the StoppingCriteria that ends a generation when asked."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from transformers import StoppingCriteria, TextIteratorStreamer


@dataclass(frozen=True)
class Progress:
    """One queued step of a generation: the answer so far and when its tokens came (perf_counter seconds)."""

    text: str
    ids: tuple[int, ...]  # every new token so far, special tokens included
    first_at: float | None  # when the first new token arrived
    last_at: float | None  # when the latest one arrived
    done: bool


class AnswerStreamer(TextIteratorStreamer):
    """Queues a `Progress` per new token instead of text pieces.

    The text is the full decode of every new token, so each step's text is the answer so far and the last one
    equals a plain decode of the output; a trailing U+FFFD (a character whose UTF-8 bytes have not all arrived)
    is held back until the character is complete."""

    def __init__(self, tokenizer: Any, timeout: float | None = None):
        super().__init__(tokenizer, skip_prompt=True, timeout=timeout, skip_special_tokens=True)
        self.ids: list[int] = []
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.ended = False

    def put(self, value: Any) -> None:
        if self.next_tokens_are_prompt:  # generate() first passes the prompt
            self.next_tokens_are_prompt = False
            return
        self.last_at = time.perf_counter()
        if self.first_at is None:
            self.first_at = self.last_at
        self.ids.extend(value.reshape(-1).tolist())
        self._queue(self._decode().rstrip("\ufffd"), done=False)

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self._queue(self._decode(), done=True)
        self.text_queue.put(self.stop_signal, timeout=self.timeout)

    def _decode(self) -> str:
        return self.tokenizer.decode(self.ids, **self.decode_kwargs)

    def _queue(self, text: str, done: bool) -> None:
        self.text_queue.put(Progress(text, tuple(self.ids), self.first_at, self.last_at, done), timeout=self.timeout)


class EventStop(StoppingCriteria):
    """Ends generation (after the current token) once any of the events is set."""

    def __init__(self, *events: threading.Event | None):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full((input_ids.shape[0],), self.is_set(), dtype=torch.bool, device=input_ids.device)
