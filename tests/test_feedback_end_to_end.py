"""Feedback as a player gives it, offline: `jambox accompany --events` and a state file carried across runs.

The effects are read from the `--json` summary (per bar: mean velocity, and the keys' harmonic tension), so these
tests check what the box played, not that a callback ran.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from jambox.demo_riff import AUDIO_FILE

pytestmark = pytest.mark.slow

SEED = "11"


def jambox(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jambox", *args], capture_output=True, text=True, timeout=300)


def accompany(tmp_path, state, events=None, *extra) -> dict:
    args = ["accompany", str(AUDIO_FILE), "--json", "--seed", SEED, "--state", str(state)]
    if events is not None:
        f = tmp_path / f"events-{len(list(tmp_path.iterdir()))}.json"
        f.write_text(json.dumps(events))
        args += ["--events", str(f)]
    out = jambox(*args, *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def bars(summary: dict, part: str, start: float = 0.0, end: float = 1e9) -> list[dict]:
    return [b for b in summary["parts"][part]["bars"] if start <= b["start"] < end]


def mean(bars_: list[dict], key: str) -> float:
    assert bars_, "no bars played in that stretch"
    return float(np.mean([b[key] for b in bars_]))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    d = tmp_path_factory.mktemp("fresh")
    return accompany(d, d / "state.db")


def loudness(summary: dict, start: float = 0.0, end: float = 1e9) -> float:
    """Mean RMS (dBFS) of the rendered accompaniment over the bars in [start, end)."""
    return mean([b for b in summary["accompaniment"]["bars"] if start <= b["start"] < end], "rms_db")


def first_bars_played(summary: dict, n: int = 2) -> tuple[float, float]:
    starts = [b["start"] for b in summary["accompaniment"]["bars"]]
    return starts[0], starts[n]


def test_softer_presses_pull_back_the_most_prominent_voices(tmp_path, fresh):
    t = 14.4  # a downbeat at 100 bpm (bar 6)
    s = accompany(tmp_path, tmp_path / "s.db", [{"t": t, "action": "softer"}, {"t": t + 0.1, "action": "softer"},
                                                  {"t": t + 0.2, "action": "softer"}])
    effects = [a["effect"] for a in s["actions"] if a["action"] == "softer"]
    assert len(effects) == 3
    for effect in effects:  # e.g. "keys softer (1.0 -> 0.8)": one voice, one step down
        before, after = (float(x) for x in effect.rsplit("(", 1)[1].rstrip(")").split("->"))
        assert after < before
    assert loudness(s, t + 0.5) < loudness(fresh, t + 0.5) - 1.0
    if any(e.startswith("keys") for e in effects):
        assert mean(bars(s, "keys", t + 0.5), "mean_velocity") < mean(bars(fresh, "keys", t + 0.5), "mean_velocity") - 5


def test_more_dissonance_raises_the_keys_tension_and_holds_it(tmp_path, fresh):
    t = 12.0
    s = accompany(tmp_path, tmp_path / "s.db", [{"t": t, "action": "more_dissonance"},
                                                  {"t": t + 0.1, "action": "more_dissonance"},
                                                  {"t": t + 0.2, "action": "more_dissonance"}])
    after = mean(bars(s, "keys", t + 0.5), "tension")
    assert after > mean(bars(fresh, "keys", t + 0.5), "tension") + 0.05
    # held: the last bar (a phrase end) is no less tense than the bars after the presses on average
    assert bars(s, "keys", t + 0.5)[-1]["tension"] >= 0.8 * after


def test_a_second_session_starts_where_the_first_left_off(tmp_path, fresh):
    state = tmp_path / "state.db"
    presses = []
    for i in range(4):
        presses += [{"t": 10.0 + 2 * i, "action": "softer_all"}, {"t": 10.1 + 2 * i, "action": "more_dissonance"}]
    first = accompany(tmp_path, state, presses)
    assert len(first["actions"]) >= 8
    second = accompany(tmp_path, state)
    start, end = first_bars_played(second)  # the first bars the box plays in the second session, before any feedback
    assert loudness(second, start, end) < loudness(fresh, start, end) - 2.0
    assert mean(bars(second, "keys", start, end), "tension") > mean(bars(fresh, "keys", start, end), "tension")
    out = jambox("state", "export", "--state", str(state))
    assert out.returncode == 0, out.stderr
    exported = json.loads(out.stdout)
    kinds = [a["kind"] for a in exported["actions"]]
    assert kinds.count("softer_all") == 4 and kinds.count("more_dissonance") == 4
