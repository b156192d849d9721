"""The bundled demo model: size, offline loading, chat template and assistant mask, tokenizer, corpus-like output."""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from studio.assets import DEMO_MODEL_DIR, PATENTS_FILE, PATENTS_MANIFEST
from studio.assets.build_demo_model import PretrainSettings, flagged_ids, read_patent_texts, split_patents
from studio.assets.demo_tokenizer import ASSISTANT, CHAT_MARKERS, END, SYSTEM, USER, train_bpe

REPO = Path(__file__).resolve().parents[2]
CONVERSATION = [
    {"role": "system", "content": "Parse the request into JSON with intent and slots."},
    {"role": "user", "content": "明天早上7点叫醒我"},
    {"role": "assistant", "content": '{"intent": "set_alarm", "slots": {"time": "7点"}}'},
    {"role": "user", "content": "play some jazz"},
    {"role": "assistant", "content": '{"intent": "play_music", "slots": {"genre": "jazz"}}'},
]


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR, local_files_only=True)


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return AutoModelForCausalLM.from_pretrained(DEMO_MODEL_DIR, local_files_only=True, dtype=torch.float32).eval()


def is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def test_model_folder_is_at_most_25_mb():
    files = [path for path in DEMO_MODEL_DIR.iterdir() if path.is_file()]
    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json"} <= {f.name for f in files}
    assert sum(f.stat().st_size for f in files) <= 25_000_000


def test_loads_offline_with_auto_classes_and_no_remote_code():
    assert "auto_map" not in json.loads((DEMO_MODEL_DIR / "config.json").read_text())
    # A fresh process, so HF_HUB_OFFLINE is read before huggingface_hub is imported.
    script = (
        "import sys; from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "tok = AutoTokenizer.from_pretrained(sys.argv[1], trust_remote_code=False)\n"
        "model = AutoModelForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=False)\n"
        "print(type(model).__name__, len(tok))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": "/nonexistent-hf-home"}
    done = subprocess.run([sys.executable, "-c", script, str(DEMO_MODEL_DIR)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "LlamaForCausalLM"


def test_chat_template_renders_our_markers(tokenizer):
    text = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert text.startswith(tokenizer.bos_token + SYSTEM)
    assert f"{USER}明天早上7点叫醒我{END}\n{ASSISTANT}" in text
    assert text.count(ASSISTANT) == 2 and text.count(END) == 5
    prompt = tokenizer.apply_chat_template(CONVERSATION[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith(ASSISTANT)
    assert tokenizer.convert_tokens_to_ids(CHAT_MARKERS) == [tokenizer.convert_tokens_to_ids(m) for m in CHAT_MARKERS]
    assert all(marker in tokenizer.all_special_tokens for marker in CHAT_MARKERS)


def test_assistant_mask_covers_exactly_the_answers_and_their_end_marker(tokenizer):
    encoded = tokenizer.apply_chat_template(CONVERSATION, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = encoded["input_ids"], encoded["assistant_masks"]
    masked = [token for token, keep in zip(ids, mask) if keep]
    answers = [m["content"] + END for m in CONVERSATION if m["role"] == "assistant"]
    expected = [t for answer in answers for t in tokenizer.encode(answer, add_special_tokens=False)]
    assert masked == expected
    # Two contiguous runs, each closed by <|end|> and opened right after <|assistant|>.
    starts = [i for i in range(len(mask)) if mask[i] and not mask[i - 1]]
    assert [ids[i - 1] for i in starts] == [tokenizer.convert_tokens_to_ids(ASSISTANT)] * 2
    ends = [i for i in range(len(mask)) if mask[i] and (i + 1 == len(mask) or not mask[i + 1])]
    assert [ids[i] for i in ends] == [tokenizer.convert_tokens_to_ids(END)] * 2


@pytest.mark.parametrize("text", [
    "本发明涉及一种锂离子电池模组液冷热管理系统，所述液冷板设置在电芯的下方。",
    "The coolant pump runs at 2.4 L/min; it's 12% faster than before.",
    '混合 text，含 emoji 😀 和 JSON {"intent": "set_alarm", "slots": {}}\n\n\t  end ',
])
def test_tokenizer_round_trips(tokenizer, text):
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


def test_greedy_generation_writes_chinese_and_stops(model, tokenizer):
    eos = model.generation_config.eos_token_id
    assert set(eos) == {tokenizer.convert_tokens_to_ids(END), tokenizer.eos_token_id}
    ids = tokenizer("本发明涉及一种", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=48)
    new = out[0, ids.shape[1]:]
    assert 0 < len(new) <= 48
    text = tokenizer.decode(new, skip_special_tokens=True)
    # Letters only: the corpus is full of numbers and units, which say nothing about noise.
    letters = [c for c in text if c.isalpha()]
    assert sum(is_han(c) for c in letters) >= 0.8 * len(letters) > 10, text


def test_perplexity_on_a_held_out_patent_is_far_below_vocab_size(model, tokenizer):
    # A paragraph of a document the build held out of pre-training: corpus-like, never seen verbatim.
    patents = read_patent_texts(PATENTS_FILE, flagged_ids(PATENTS_MANIFEST))
    _, heldout = split_patents(patents, PretrainSettings())
    paragraph = max((p for doc in heldout for p in doc.split("\n\n")), key=len)
    ids = tokenizer(paragraph, return_tensors="pt")["input_ids"][:, :256]
    with torch.no_grad():
        loss = model(input_ids=ids, labels=ids).loss.item()
    assert math.exp(loss) < 100 < len(tokenizer)


def test_model_card_states_the_final_loss():
    card = (DEMO_MODEL_DIR / "README.md").read_text(encoding="utf-8")
    assert "DEMO" in card and "python -m studio.assets.build_demo_model" in card
    match = re.search(r"final training loss[^|]*\|\s*([0-9.]+)", card)
    assert match and 0 < float(match.group(1)) < 5


def test_tokenizer_training_is_deterministic():
    texts = ["所述液冷板设置在电芯的下方。", "The pump keeps the cells within 2 degrees.", '{"intent": "x"}'] * 20
    first, second = train_bpe(texts, vocab_size=400), train_bpe(texts, vocab_size=400)
    assert first.get_vocab() == second.get_vocab()
    assert first.to_str() == second.to_str()
