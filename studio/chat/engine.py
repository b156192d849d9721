"""The chat engine of the Compare tab: one copy of a base model, any number of named LoRA adapters on it, and
generation (whole, streamed) or reference scoring with "base" or any adapter.

"base" runs inside `disable_adapter()`, so it is the base model exactly — never a base pane that silently still
applies a LoRA. An adapter is chosen with `set_adapter`, which is model-global state, so every use of the model
holds one lock: two panes asking at once take turns and cannot mix adapters.

Decoding: the settings' temperature and top_p, top-k off (so top_p = 1 means no truncation); every other knob
(repetition penalty, …) as the model's generation_config says, exactly like a plain `model.generate()`. An answer
ends at any of the model's EOS ids, the tokenizer's EOS or the chat template's end-of-turn token, and at the
model's context length.

Torch, transformers and PEFT are imported inside the methods so that importing the studio stays cheap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.chat import prompts, registry, weights
from studio.chat.adapters import check_adapter
from studio.config import ModelConfig

BASE = "base"


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 0  # torch.manual_seed before each sampled generation: same seed, same answer
    system_prompt: str | None = None  # prepended as a system message when set (replaces a leading one)

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be 0 (greedy) or more, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


@dataclass(frozen=True)
class StreamChunk:
    text: str  # the whole answer so far
    n_tokens: int  # new tokens so far (the final EOS / end-of-turn token included)
    ttft_s: float | None  # time to first token, from the start of generation (waiting for the lock not counted)
    tokens_per_s: float | None  # decode speed after the first token: (n_tokens - 1) / seconds since it
    done: bool
    finish_reason: str | None = None  # on the last chunk: "eos", "length", "stopped" or "unloaded"


@dataclass(frozen=True)
class _Adapter:
    peft_name: str  # PEFT's name: display names may hold characters a module name cannot ('.')
    path: Path


class ChatEngine:
    """One base model and its named adapters; every method is safe to call from several threads."""

    def __init__(self, model: ModelConfig, load_in_4bit: bool = False, device: str = "auto"):
        from studio.models import load_tokenizer

        self.model_config = model
        self.load_in_4bit = load_in_4bit
        self.device = weights.resolve_device(device)
        self.tokenizer = load_tokenizer(model)
        self._model: Any = weights.load_base(model, load_in_4bit, self.device)
        self._stop_ids = prompts.stop_ids(self.tokenizer, self._model.generation_config)
        self._context = getattr(self._model.config, "max_position_embeddings", None)  # tokens
        self._adapters: dict[str, _Adapter] = {}  # replaced, never mutated: readers need no lock
        self._serial = 0  # numbers PEFT adapter names
        self._lock = threading.Lock()  # held by every use of the model (set_adapter is global state)
        self._unloading = threading.Event()  # ends a generation in flight when unload() is called
        registry.register(self)

    @property
    def names(self) -> list[str]:
        return [BASE, *self._adapters]

    @property
    def adapters(self) -> dict[str, Path]:
        """Adapter name → the folder it was loaded from, in load order."""
        return {name: a.path for name, a in self._adapters.items()}

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def stop_token_ids(self) -> list[int]:
        return list(self._stop_ids)

    def describe(self) -> str:
        """One line for the user: which model, how loaded, with which adapters."""
        how = f"{'4-bit NF4' if self.load_in_4bit else 'full precision'} on {self.device}"
        extra = f" + adapters {', '.join(self._adapters)}" if self._adapters else ""
        return f"{self.model_config.name_or_path} ({how}){extra}"

    def add_adapter(self, name: str, path: str | Path) -> None:
        """Load the PEFT LoRA adapter in `path` (a run's adapter/ or a checkpoint-N folder) under `name`."""
        folder = Path(path).expanduser()
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{folder}: an adapter needs a non-empty name")
        with self._lock:
            if name == BASE or name in self._adapters:
                taken = "is the base model's" if name == BASE else f"is taken by {self._adapters[name].path}"
                raise ValueError(f"{folder}: the name {name!r} {taken}; pick another name")
            self._require_loaded()
            check_adapter(folder, weights.transformers_model(self._model), self.model_config.name_or_path)
            self._serial += 1
            peft_name = f"adapter{self._serial}"
            try:
                self._model = weights.attach_adapter(self._model, folder, peft_name)
            except ValueError:
                if not self._adapters and weights.has_peft_layers(self._model):
                    # The first adapter failed after PEFT had put layers into the base: start from a clean copy
                    # (the tainted one freed first, so that two copies are never held).
                    self._model = None
                    self._free_cache()
                    self._model = weights.load_base(self.model_config, self.load_in_4bit, self.device)
                raise
            self._adapters = {**self._adapters, name: _Adapter(peft_name, folder)}

    def remove_adapter(self, name: str) -> None:
        with self._lock:
            if name not in self._adapters:
                raise ValueError(f"no adapter named {name!r} (loaded: {', '.join(self._adapters) or 'none'})")
            remaining = {n: a for n, a in self._adapters.items() if n != name}
            self._model = weights.detach_adapter(self._model, self._adapters[name].peft_name, last=not remaining)
            self._adapters = remaining
            self._free_cache()

    def generate(self, name: str, messages: list[dict], settings: GenerationSettings,
                 stop: threading.Event | None = None) -> str:
        """The whole answer of `name` ("base" or an adapter) to the conversation."""
        return self.tokenizer.decode(self.generate_ids(name, messages, settings, stop), skip_special_tokens=True)

    def generate_ids(self, name: str, messages: list[dict], settings: GenerationSettings,
                     stop: threading.Event | None = None) -> list[int]:
        """The answer's new token ids, the final EOS / end-of-turn token included."""
        from studio.chat.streaming import EventStop

        self._check_name(name)
        return self._run(name, messages, settings, EventStop(stop, self._unloading), streamer=None)

    def stream(self, name: str, messages: list[dict], settings: GenerationSettings,
               stop: threading.Event | None = None) -> Iterator[StreamChunk]:
        """Chunks with the answer so far, the last one with done=True; `stop` ends generation after the current
        token. Generation runs in a thread started by the first `next()`; closing the iterator stops it. An
        error of the generation (a conversation longer than the context, …) is raised by the iterator."""
        self._check_name(name)
        self._require_loaded()
        return self._stream(name, messages, settings, stop)

    def _stream(self, name: str, messages: list[dict], settings: GenerationSettings,
                stop: threading.Event | None) -> Iterator[StreamChunk]:
        from studio.chat.streaming import AnswerStreamer, EventStop

        abandoned = threading.Event()  # set when the consumer closes the iterator early
        stopping = EventStop(stop, self._unloading, abandoned)
        streamer = AnswerStreamer(self.tokenizer)
        failure: list[BaseException] = []
        started = [0.0]

        def work() -> None:
            try:
                self._run(name, messages, settings, stopping, streamer, started)
            except BaseException as exc:  # noqa: BLE001 — handed to the consumer, raised there
                failure.append(exc)
            finally:
                streamer.end()  # a no-op when generate() already ended the stream

        thread = threading.Thread(target=work, name=f"chat-{name}", daemon=True)
        thread.start()
        try:
            for step in streamer:
                if step.done:
                    thread.join()
                    if failure:
                        raise failure[0]
                ttft = step.first_at - started[0] if step.first_at is not None else None
                rate = ((len(step.ids) - 1) / (step.last_at - step.first_at)
                        if len(step.ids) > 1 and step.last_at > step.first_at else None)
                reason = self._finish_reason(step.ids, stopping) if step.done else None
                yield StreamChunk(step.text, len(step.ids), ttft, rate, step.done, reason)
        finally:
            abandoned.set()
            thread.join()

    def _run(self, name: str, messages: list[dict], settings: GenerationSettings, stopping: Any,
             streamer: Any, started: list[float] | None = None) -> list[int]:
        import torch
        from transformers import StoppingCriteriaList

        with self._lock:
            self._require_loaded()
            prompt = self._prompt_ids(prompts.with_system(messages, settings.system_prompt), 0)
            if stopping.is_set():  # stopped or abandoned while waiting for the lock
                return []
            input_ids = torch.tensor([prompt], dtype=torch.long, device=self.device)
            budget = settings.max_new_tokens if not self._context else min(settings.max_new_tokens,
                                                                           self._context - len(prompt))
            if settings.temperature > 0:
                torch.manual_seed(settings.seed)
            if started is not None:
                started[0] = time.perf_counter()
            with self._selected(name) as model, torch.inference_mode():
                output = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                        generation_config=self._generation_config(settings, budget),
                                        stopping_criteria=StoppingCriteriaList([stopping]), streamer=streamer)
            return output[0, len(prompt):].tolist()

    def reference_nll(self, name: str, messages: list[dict], reference: str) -> tuple[float, int]:
        """Summed NLL (nats) and token count of `reference` as the assistant's answer after `messages`.

        Scored tokens are the reference's own (tokenized without special tokens, after the generation prompt);
        the end-of-turn token is not scored, so perplexity = exp(nll / count) is of the text alone."""
        import torch

        self._check_name(name)
        answer = prompts.answer_ids(self.tokenizer, reference)
        if not answer:
            raise ValueError("the reference answer is empty: there is nothing to score")
        with self._lock:
            self._require_loaded()
            prompt = self._prompt_ids(messages, len(answer))
            ids = torch.tensor([prompt + answer], dtype=torch.long, device=self.device)
            # Only the logits that predict answer tokens (positions len(prompt)-1 … end-1) when the model can keep
            # just those: a long prompt times a 150k vocabulary is gigabytes of logits otherwise.
            keep = {"logits_to_keep": len(answer) + 1} if self._keeps_logits() else {}
            with self._selected(name) as model, torch.inference_mode():
                logits = model(input_ids=ids, **keep).logits[0, -len(answer) - 1:-1].float()
            nll = torch.nn.functional.cross_entropy(logits, ids[0, len(prompt):], reduction="sum")
            return float(nll), len(answer)

    def unload(self) -> None:
        """Free the weights; a generation in flight ends after its current token. The engine is unusable after."""
        self._unloading.set()
        with self._lock:
            self._model = None
            self._adapters = {}
            self._free_cache()

    @contextmanager
    def _selected(self, name: str) -> Iterator[Any]:
        """The model with `name` active; call with the lock held."""
        from peft import PeftModel

        self._check_name(name)  # again under the lock: the adapter may have been removed since the caller checked
        if name == BASE:
            if isinstance(self._model, PeftModel):
                with self._model.disable_adapter():
                    yield self._model
            else:
                yield self._model
            return
        self._model.set_adapter(self._adapters[name].peft_name)
        yield self._model

    def _prompt_ids(self, messages: list[dict], reserve: int) -> list[int]:
        """The conversation with the assistant's turn opened; ValueError when it leaves under `reserve` + 1 tokens
        of the model's context."""
        ids = prompts.prompt_ids(self.tokenizer, messages)
        if self._context and len(ids) + reserve >= self._context:
            raise ValueError(f"the conversation is {len(ids)} tokens{f' plus {reserve} to score' if reserve else ''}"
                             f", the model's context is {self._context}: shorten it or start a new one")
        return ids

    def _generation_config(self, settings: GenerationSettings, max_new_tokens: int) -> Any:
        from transformers import GenerationConfig

        sample = settings.temperature > 0
        # Greedy leaves temperature/top_p/top_k at transformers' defaults so that nothing is flagged as unused.
        return GenerationConfig(max_new_tokens=max_new_tokens, do_sample=sample,
                                temperature=settings.temperature if sample else 1.0,
                                top_p=settings.top_p if sample else 1.0, top_k=0 if sample else 50,
                                eos_token_id=self._stop_ids, pad_token_id=self.tokenizer.pad_token_id, use_cache=True)

    def _finish_reason(self, ids: tuple[int, ...], stopping: Any) -> str:
        if ids and ids[-1] in self._stop_ids:
            return "eos"
        if self._unloading.is_set():
            return "unloaded"
        return "stopped" if stopping.is_set() else "length"

    def _keeps_logits(self) -> bool:
        import inspect

        return "logits_to_keep" in inspect.signature(weights.transformers_model(self._model).forward).parameters

    def _check_name(self, name: str) -> None:
        if name != BASE and name not in self._adapters:
            raise ValueError(f"no model named {name!r} in this engine (loaded: {', '.join(self.names)})")

    def _require_loaded(self) -> None:
        if self._model is None:
            raise RuntimeError(f"the chat model {self.model_config.name_or_path} was unloaded (to free memory for "
                               "training); load it again to chat")

    def _free_cache(self) -> None:
        import gc

        import torch

        gc.collect()
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()
