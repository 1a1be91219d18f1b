"""A restart resumes: `jambox accompany` killed with SIGKILL mid-session (a crash, a pulled plug) after SOFTER ALL,
SOFTER and MORE DISSONANCE, restarted on the same state file, starts softer and more tense than a fresh start and
says so; the same state made an hour old starts fresh (shaped only by the taste the killed session taught).

The effects are read from the `--json` summary of what the box played (per bar: RMS, and the keys' tension)."""

import json
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from jambox.demo_riff import AUDIO_FILE

pytestmark = pytest.mark.slow
SEED = "11"
PRESSES = [{"t": 3.0, "action": "softer_all"}, {"t": 3.1, "action": "softer_all"}, {"t": 3.2, "action": "softer"},
           {"t": 3.3, "action": "more_dissonance"}, {"t": 3.4, "action": "more_dissonance"},
           {"t": 3.5, "action": "more_dissonance"}]


def accompany(audio, state, *extra) -> tuple[dict, str]:
    out = subprocess.run([sys.executable, "-m", "jambox", "accompany", str(audio), "--json", "--seed", SEED,
                          "--state", str(state), *extra], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), out.stderr


def actions_in(state) -> int:
    try:
        conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=0.05)
        try:
            return conn.execute("SELECT COUNT(*) FROM actions").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or being migrated
        return 0


def kill_mid_session(tmp_path, state) -> None:
    """Run a long take with the presses early in it, and SIGKILL the box once all of them are on disk."""
    take = tmp_path / "long-take.wav"
    bass, sr = sf.read(str(AUDIO_FILE), dtype="float32")
    sf.write(str(take), np.tile(bass, 4), sr)  # about two minutes: the kill lands long before the end
    events = tmp_path / "presses.json"
    events.write_text(json.dumps(PRESSES))
    proc = subprocess.Popen([sys.executable, "-m", "jambox", "accompany", str(take), "--seed", SEED,
                             "--state", str(state), "--events", str(events)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while actions_in(state) < len(PRESSES):
            assert proc.poll() is None, "the box ended before the presses were acknowledged"
            assert time.monotonic() < deadline, "the presses never reached the state file"
            time.sleep(0.02)
        proc.kill()  # SIGKILL
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -9  # killed, not ended: the session is left open in the file


def opening_bars(summary: dict, n: int = 2) -> list[dict]:
    bars = summary["accompaniment"]["bars"]
    assert len(bars) > n, "the box hardly played"
    return bars[:n]


def loudness(summary: dict) -> float:
    return float(np.mean([b["rms_db"] for b in opening_bars(summary)]))


def tension(summary: dict) -> float:
    start, end = opening_bars(summary)[0]["start"], opening_bars(summary, 3)[-1]["start"]
    bars = [b for b in summary["parts"]["keys"]["bars"] if start <= b["start"] < end]
    assert bars, "the keys played nothing in the opening bars"
    return float(np.mean([b["tension"] for b in bars]))


def resumed_said(summary: dict) -> list[str]:
    return [e["event"] for e in summary["session_events"] if e["event"].startswith("resumed the session")]


def test_a_killed_session_resumes_softer_and_more_tense_and_a_stale_one_starts_fresh(tmp_path):
    state = tmp_path / "state.db"
    kill_mid_session(tmp_path, state)
    stale = tmp_path / "stale.db"
    src = sqlite3.connect(state)
    dst = sqlite3.connect(stale)
    src.backup(dst)  # the same file, its session state made an hour old
    dst.execute("UPDATE session_state SET saved_at = saved_at - 3600")
    dst.commit()
    src.close()
    dst.close()

    fresh, _ = accompany(AUDIO_FILE, tmp_path / "fresh.db")
    resumed, log = accompany(AUDIO_FILE, state)
    old, old_log = accompany(AUDIO_FILE, stale)

    [said] = resumed_said(resumed)
    assert "level 0.60" in said and "dissonance 0.65" in said and "tension held" in said, said
    assert "resumed the session that stopped" in log  # and in the log, as a warning
    assert not resumed_said(old) and "resumed" not in old_log and not resumed_said(fresh)
    # resumed: as softer and tense as when the plug was pulled, from the first bars it plays
    assert loudness(resumed) < loudness(fresh) - 2.0
    assert tension(resumed) > tension(fresh) + 0.05
    # stale: only the taste the killed session taught moves it, part of the way
    assert loudness(resumed) < loudness(old) - 0.5
    assert tension(resumed) > tension(old)
