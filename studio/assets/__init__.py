"""Bundled assets: the demo model and the sample data sets, both rebuilt by scripts in this folder.

Nothing here is downloaded: the studio must start and train offline on a laptop CPU.
"""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent
DEMO_MODEL_DIR = ASSETS_DIR / "demo-model"
SAMPLES_DIR = ASSETS_DIR / "samples"

PATENTS_FILE = SAMPLES_DIR / "patents.jsonl"
PATENTS_MANIFEST = SAMPLES_DIR / "patents_manifest.json"
INTENT_CHAT_FILE = SAMPLES_DIR / "intent_chat.jsonl"
INTENT_ALPACA_FILE = SAMPLES_DIR / "intent_alpaca.jsonl"
INTENT_EVAL_FILE = SAMPLES_DIR / "intent_eval.jsonl"

# What "bundled:<name>" in a recipe or on the command line refers to.
BUNDLED = {
    "demo-model": DEMO_MODEL_DIR,
    "patents": PATENTS_FILE,
    "intent_chat": INTENT_CHAT_FILE,
    "intent_alpaca": INTENT_ALPACA_FILE,
    "intent_eval": INTENT_EVAL_FILE,
}


def resolve_bundled(name: str) -> Path:
    """The file or folder behind a bundled name ("demo-model" or "bundled:demo-model")."""
    key = name.removeprefix("bundled:")
    if key not in BUNDLED:
        raise FileNotFoundError(f"bundled:{key} does not exist; bundled assets are: "
                       + ", ".join(f"bundled:{k}" for k in BUNDLED))
    return BUNDLED[key]
