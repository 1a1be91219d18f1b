"""The README's commands and examples are real: CI runs its test command, and its example runs here."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def block_after(marker: str) -> str:
    m = re.search(rf"<!-- {marker} -->\s*```bash\n(.*?)```", README.read_text(), re.S)
    assert m, f"no bash block after <!-- {marker} --> in README.md"
    return m.group(1).strip()


def test_the_quick_start_is_two_commands_that_install_everything():
    demo, test = block_after("demo-command"), block_after("test-command")
    for cmd in (demo, test):
        assert len(cmd.splitlines()) == 1
        assert "apt-get install" in cmd and "python3 -m venv .venv" in cmd and ".venv/bin/pip install -e" in cmd
    assert demo.endswith(".venv/bin/jambox demo")
    assert test.endswith(".venv/bin/python -m pytest")
    for pkg in ("libfluidsynth3", "fluid-soundfont-gm", "libportaudio2", "libsndfile1", "jackd2"):
        assert pkg in test


def test_ci_runs_the_readmes_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "test-command" in ci and "README.md" in ci


@pytest.mark.slow
def test_the_feedback_example_runs(tmp_path):
    text = README.read_text()
    m = re.search(r"echo '(\[.*?\])' > events.json\njambox accompany bass.wav (.*)\n", text)
    assert m, "the README's events example is missing"
    (tmp_path / "events.json").write_text(m.group(1))
    from jambox.demo_riff import AUDIO_FILE

    args = [a.replace("events.json", str(tmp_path / "events.json")).replace("jam.db", str(tmp_path / "jam.db"))
            for a in shlex.split(m.group(2))]
    out = subprocess.run([sys.executable, "-m", "jambox", "accompany", str(AUDIO_FILE), *args],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    import json

    summary = json.loads(out.stdout)
    assert [a["action"] for a in summary["actions"]] == ["more_dissonance", "softer", "set"]
    assert all(a["effect"] for a in summary["actions"])
