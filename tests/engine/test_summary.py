"""What a run reports: bars on the settled grid, per-bar velocities and tension, and how loud each bar sounds."""

import pytest

from jambox.audio.files import load_bass
from jambox.config import load_config
from jambox.controls.actions import Action
from jambox.demo_riff import AUDIO_FILE, BPM
from jambox.engine.accompany import accompany
from jambox.engine.summary import bar_starts, describe

pytestmark = pytest.mark.slow
SR = 48000


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    config = load_config(search=[])
    bass = load_bass(str(AUDIO_FILE), SR)
    d = tmp_path_factory.mktemp("summary")
    loud = accompany(config, bass, state_path=d / "a.db", seed=2)
    quiet = accompany(config, bass, state_path=d / "b.db", seed=2,
                      actions=[Action.make("set", source="test", control="level", value=0.3, at=0)])
    return loud, quiet


def test_bars_follow_the_riffs_grid(runs):
    loud, _ = runs
    starts = bar_starts(loud.chain, int(loud.summary["duration_s"] * SR))
    bar = 4 * 60.0 / BPM * SR
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert starts[0] >= 0 and len(starts) >= 10
    assert all(abs(g - bar) < 0.05 * bar for g in gaps[1:])  # the first may be a pickup


def test_each_part_reports_its_bars(runs):
    s = runs[0].summary
    for part in ("drums", "keys"):
        bars = s["parts"][part]["bars"]
        assert bars and sum(b["events"] for b in bars) == s["parts"][part]["events"]
        assert all(1 <= b["mean_velocity"] <= 127 for b in bars)
    assert all(b["tension"] is None for b in s["parts"]["drums"]["bars"])
    assert all(0.0 <= b["tension"] <= 1.0 for b in s["parts"]["keys"]["bars"])
    assert s["heard"]["key"] == {"tonic": "E", "mode": "minor"}


def test_a_lower_level_sounds_softer(runs):
    loud, quiet = runs
    lb = {b["bar"]: b["rms_db"] for b in loud.summary["accompaniment"]["bars"]}
    qb = {b["bar"]: b["rms_db"] for b in quiet.summary["accompaniment"]["bars"]}
    common = sorted(set(lb) & set(qb))
    assert len(common) >= 4
    assert sum(lb[b] - qb[b] for b in common) / len(common) > 4.0  # dB


def test_describe_says_what_was_heard_and_played(runs):
    text = describe(runs[0].summary)
    assert "E minor" in text and "4/4" in text and "Played drums" in text and "Played keys" in text
