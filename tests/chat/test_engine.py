"""The chat engine against plain transformers/PEFT: "base" is the base model token for token, each adapter is that
adapter loaded alone, whatever was asked before; streaming, stopping, sampling seeds, 4-bit and reference NLL."""

from __future__ import annotations

import threading

import pytest
import torch

from studio.chat import BASE, ChatEngine, GenerationSettings
from tests.chat.conftest import engine_with

MESSAGES = [{"role": "user", "content": "明天6点叫醒我"}]
GREEDY = GenerationSettings(max_new_tokens=24)


@pytest.fixture(scope="module")
def engine(tiny_model_dir, adapter_dirs):
    """The tiny base with adapters A and B loaded at once (read-only: tests that change adapters make their own)."""
    return engine_with(tiny_model_dir, {"A": adapter_dirs["A"], "B": adapter_dirs["B"]})


def _plain(tiny_model_dir, adapter_dir=None):
    """A fresh model with no engine involved: the base alone, or PeftModel.from_pretrained(base, adapter) alone."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    return PeftModel.from_pretrained(model, adapter_dir).eval() if adapter_dir else model


def _plain_prompt(tokenizer, messages):
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]


def _plain_greedy(model, tokenizer, max_new_tokens):
    prompt = _plain_prompt(tokenizer, MESSAGES)
    stops = [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|end|>")]
    with torch.no_grad():
        out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                             max_new_tokens=max_new_tokens, eos_token_id=stops, pad_token_id=tokenizer.pad_token_id)
    return out[0, prompt.shape[1]:].tolist()


def test_stop_tokens_are_eos_and_the_templates_end_of_turn(engine):
    tok = engine.tokenizer
    assert set(engine.stop_token_ids) == {tok.eos_token_id, tok.convert_tokens_to_ids("<|end|>")}


def test_greedy_outputs_equal_plain_models_asked_in_the_order_a_base_b_a(engine, tiny_model_dir, adapter_dirs):
    tok = engine.tokenizer
    expected = {BASE: _plain_greedy(_plain(tiny_model_dir), tok, GREEDY.max_new_tokens)}
    for name in ("A", "B"):
        expected[name] = _plain_greedy(_plain(tiny_model_dir, adapter_dirs[name]), tok, GREEDY.max_new_tokens)
    # The adapters really change the answer, so an engine that ignored them (or always applied one) would fail.
    assert expected["A"] != expected[BASE] and expected["B"] != expected[BASE] and expected["A"] != expected["B"]
    for name in ("A", BASE, "B", "A"):
        ids = engine.generate_ids(name, MESSAGES, GREEDY)
        assert ids == expected[name], name
        assert engine.generate(name, MESSAGES, GREEDY) == tok.decode(expected[name], skip_special_tokens=True)


def test_removing_adapters_leaves_the_others_and_the_base_exact(tiny_config, tiny_model_dir, adapter_dirs):
    chat = ChatEngine(tiny_config)
    base_before = chat.generate_ids(BASE, MESSAGES, GREEDY)
    chat.add_adapter("A", adapter_dirs["A"])
    chat.add_adapter("run.v1 (B)", adapter_dirs["B"])  # display names may hold what module names cannot
    assert chat.names == [BASE, "A", "run.v1 (B)"]
    b = chat.generate_ids("run.v1 (B)", MESSAGES, GREEDY)
    chat.remove_adapter("A")
    assert chat.names == [BASE, "run.v1 (B)"]
    assert chat.generate_ids("run.v1 (B)", MESSAGES, GREEDY) == b
    with pytest.raises(ValueError, match="no model named 'A'"):
        chat.generate("A", MESSAGES, GREEDY)
    chat.remove_adapter("run.v1 (B)")
    assert chat.names == [BASE]
    assert not any("lora" in name for name, _ in chat._model.named_modules())  # the PEFT layers are gone
    assert chat.generate_ids(BASE, MESSAGES, GREEDY) == base_before
    chat.add_adapter("A", adapter_dirs["A"])  # and it can wrap again
    assert chat.generate_ids("A", MESSAGES, GREEDY) == _plain_greedy(_plain(tiny_model_dir, adapter_dirs["A"]),
                                                                     chat.tokenizer, GREEDY.max_new_tokens)


def test_stream_grows_to_the_generated_answer(engine):
    settings = GenerationSettings(max_new_tokens=20)
    chunks = list(engine.stream("B", MESSAGES, settings))
    final = chunks[-1]
    assert final.done and not any(c.done for c in chunks[:-1])
    assert final.text == engine.generate("B", MESSAGES, settings)
    assert final.n_tokens == len(engine.generate_ids("B", MESSAGES, settings))
    texts = [c.text for c in chunks]
    assert len(set(texts)) > 3  # it really streamed
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))
    assert [c.n_tokens for c in chunks[:-1]] == list(range(1, len(chunks)))
    assert final.ttft_s is not None and final.ttft_s > 0
    assert final.tokens_per_s is not None and final.tokens_per_s > 0
    assert final.finish_reason in ("eos", "length")


def test_stop_event_ends_the_stream_early(engine):
    settings = GenerationSettings(max_new_tokens=64)
    full = engine.generate_ids("B", MESSAGES, settings)
    assert len(full) == 64  # the random adapter never says EOS, so only the event can end it early
    stop = threading.Event()
    chunks = []
    for chunk in engine.stream("B", MESSAGES, settings, stop=stop):
        chunks.append(chunk)
        if chunk.n_tokens == 3:
            stop.set()
    final = chunks[-1]
    assert final.done and final.finish_reason == "stopped"
    assert 3 <= final.n_tokens < 20  # the thread may add a few tokens before it sees the event
    assert final.text == engine.tokenizer.decode(full[:final.n_tokens], skip_special_tokens=True)


def test_closing_the_stream_early_frees_the_engine(engine):
    stream = engine.stream("B", MESSAGES, GenerationSettings(max_new_tokens=500))
    next(stream)
    stream.close()  # the UI pane went away: generation must stop, and the lock be free for the next request
    assert engine.generate_ids("A", MESSAGES, GREEDY) == engine.generate_ids("A", MESSAGES, GREEDY)


def test_two_panes_at_once_get_what_each_gets_alone(engine):
    settings = GenerationSettings(max_new_tokens=30)
    alone = {name: engine.generate(name, MESSAGES, settings) for name in ("A", BASE, "B")}
    results: dict[str, str] = {}

    def pane(name):
        results[name] = list(engine.stream(name, MESSAGES, settings))[-1].text

    threads = [threading.Thread(target=pane, args=(name,)) for name in ("A", BASE, "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == alone


def test_the_same_seed_gives_the_same_sample(engine):
    def sample(seed, name="B"):
        return engine.generate(name, MESSAGES, GenerationSettings(max_new_tokens=16, temperature=1.0, seed=seed))

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)
    greedy = engine.generate("B", MESSAGES, GenerationSettings(max_new_tokens=16))
    assert greedy != sample(1)


def test_system_prompt_goes_in_front_as_a_system_message(engine):
    system = "Parse the request into JSON with intent and slots."
    with_setting = engine.generate_ids("B", MESSAGES, GenerationSettings(max_new_tokens=12, system_prompt=system))
    written = engine.generate_ids("B", [{"role": "system", "content": system}, *MESSAGES],
                                  GenerationSettings(max_new_tokens=12))
    assert with_setting == written
    assert with_setting != engine.generate_ids("B", MESSAGES, GenerationSettings(max_new_tokens=12))


@pytest.mark.parametrize("name", [BASE, "A"])
def test_reference_nll_equals_a_hand_computation(engine, tiny_model_dir, adapter_dirs, name):
    reference = '{"intent": "set_alarm", "slots": {"time": "6点"}}'
    model = _plain(tiny_model_dir, adapter_dirs[name] if name != BASE else None)
    tok = engine.tokenizer
    prompt = _plain_prompt(tok, MESSAGES)[0].tolist()
    answer = tok(reference, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + answer])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
    by_hand = -sum(float(logprobs[len(prompt) + i - 1, token]) for i, token in enumerate(answer))
    nll, count = engine.reference_nll(name, MESSAGES, reference)
    assert count == len(answer) > 10
    assert nll == pytest.approx(by_hand, rel=1e-5)


def test_reference_nll_of_an_empty_answer_is_refused(engine):
    with pytest.raises(ValueError, match="empty"):
        engine.reference_nll(BASE, MESSAGES, "")


def test_4bit_engine_generates_on_the_cpu_with_nf4_layers(tiny_config, adapter_dirs):
    from bitsandbytes.nn import Linear4bit

    chat = ChatEngine(tiny_config, load_in_4bit=True, device="cpu")
    linear = [m for m in chat._model.model.layers.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear) == 2 * 7 and all(isinstance(m, Linear4bit) for m in linear)  # q k v o gate up down
    base = chat.generate_ids(BASE, MESSAGES, GenerationSettings(max_new_tokens=8))
    assert len(base) >= 1
    chat.add_adapter("B", adapter_dirs["B"])
    assert chat.generate_ids("B", MESSAGES, GenerationSettings(max_new_tokens=8)) != base
    assert chat.generate_ids(BASE, MESSAGES, GenerationSettings(max_new_tokens=8)) == base
    chat.unload()


def test_settings_out_of_range_are_refused():
    for bad in ({"max_new_tokens": 0}, {"temperature": -0.1}, {"top_p": 0.0}, {"top_p": 1.5}):
        with pytest.raises(ValueError):
            GenerationSettings(**bad)
