"""Secrets kept out of what the studio shows or writes: Hub tokens and the UI password.

Text that leaves a process for a person (the worker log tail in the Train tab, a run's failure message) goes through
`redact` first. It replaces the values of the secret environment variables this process knows and anything shaped
like a Hugging Face token, so a library that echoes its environment or a URL cannot put a token on the screen.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_HUB_TOKEN", "STUDIO_AUTH")
MASK = "[redacted]"
_HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
_SHORTEST = 4  # bytes; a shorter "secret" would mask ordinary words and says nothing about a real token


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values in `environ`: each token, and for STUDIO_AUTH both USER:PASSWORD and the password."""
    env = os.environ if environ is None else environ
    found = []
    for name in SECRET_ENV:
        value = env.get(name, "").strip()
        if not value:
            continue
        found.append(value)
        if name == "STUDIO_AUTH" and ":" in value:
            found.append(value.partition(":")[2])
    return [v for v in found if len(v) >= _SHORTEST]


def redact(text: str, secrets: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> str:
    """`text` with every known secret and every hf_... token replaced by [redacted]."""
    for secret in sorted({*secret_values(environ), *(s for s in secrets if len(s) >= _SHORTEST)}, key=len,
                         reverse=True):  # longest first: USER:PASSWORD before PASSWORD
        text = text.replace(secret, MASK)
    return _HF_TOKEN.sub(MASK, text)


def without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without the UI password, for child processes that have no use for it (Hub tokens stay: a
    training run may need them to download a gated model)."""
    return {k: v for k, v in environ.items() if k != "STUDIO_AUTH"}
