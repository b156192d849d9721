"""Tokens and the UI password stay out of what the studio shows and what it hands to the training worker."""

import subprocess

from studio.redaction import MASK, redact, secret_values, without_secrets
from studio.train import events, runner
from studio.workspace import Workspace

TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123"
ENV = {"HF_TOKEN": TOKEN, "HUGGING_FACE_HUB_TOKEN": "hub-token-1234", "STUDIO_AUTH": "ann:Pa55-word"}


def test_secret_values_of_the_environment():
    assert secret_values(ENV) == [TOKEN, "hub-token-1234", "ann:Pa55-word", "Pa55-word"]
    assert secret_values({"HF_TOKEN": "", "STUDIO_AUTH": "a:b"}) == []  # too short to mask safely


def test_redact_masks_every_known_secret_and_token_shaped_text():
    text = (f"login ann:Pa55-word failed; Authorization: Bearer {TOKEN}; hub-token-1234 in the url; "
            f"someone else's hf_ZyXwVuTsRqPoNmLkJiHgFeDcBa98765 too; the word Pa55-word alone")
    out = redact(text, environ=ENV)
    for secret in (TOKEN, "hub-token-1234", "Pa55-word", "hf_ZyXwVuTsRqPoNmLkJiHgFeDcBa98765"):
        assert secret not in out
    assert out.count(MASK) == 5 and "login [redacted] failed" in out
    assert redact("loss 0.42 at step 3", environ=ENV) == "loss 0.42 at step 3"


def test_the_worker_log_tail_is_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    (tmp_path / events.LOG_FILE).write_text(f"step 1\nHTTP 401 for token {TOKEN}\n", encoding="utf-8")
    tail = events.log_tail(tmp_path)
    assert TOKEN not in tail and "token [redacted]" in tail


def test_the_worker_does_not_inherit_the_ui_password(tmp_path, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    seen = {}

    class FakeProcess:
        pid = 12345

        def __init__(self, command, env, **kwargs):
            seen.update(command=command, env=env)

        def wait(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    ws = Workspace.open(tmp_path / "ws")
    folder = ws.runs / "r1"
    folder.mkdir()
    runner._start(ws, folder, None)
    assert "STUDIO_AUTH" not in seen["env"] and seen["env"]["HF_TOKEN"] == TOKEN  # gated downloads still work
    assert not any("Pa55-word" in part for part in seen["command"])
    assert without_secrets(ENV) == {k: v for k, v in ENV.items() if k != "STUDIO_AUTH"}
