"""README.md holds exactly the two set-up commands, and .ci/run runs the very test command it shows."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def marked_block(marker: str) -> list[str]:
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.*?)```", README, re.S)
    assert match, f"README.md has no ```bash block after <!-- {marker} -->"
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_readme_has_one_start_command_and_one_test_command():
    start, test = marked_block("start-command"), marked_block("test-command")
    assert len(start) == 1 and len(test) == 1
    assert start[0].startswith("pip install torch==2.13.0") and start[0].endswith("python app.py")
    assert "pip install torch==2.13.0" in test[0] and test[0].endswith("python -m pytest")
    assert README.count("```bash") == 2


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci/run").read_text(encoding="utf-8")
    awk_line = next(line for line in script.splitlines() if line.startswith("cmd=$(awk"))
    extracted = subprocess.run(["bash", "-c", f"{awk_line}; printf '%s' \"$cmd\""], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    assert extracted == marked_block("test-command")[0]
    assert 'bash -euo pipefail -c "$cmd"' in script


def test_screenshot_shown_in_the_readme_exists():
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / image).is_file(), image
