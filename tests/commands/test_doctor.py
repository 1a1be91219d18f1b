"""`jambox doctor` as a command: one line per check, --json, --only, the exit status, config errors."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from jambox.commands import doctor

REPO = Path(__file__).resolve().parents[2]
ASOUNDRC = 'pcm.jambox { type asym playback.pcm "jambox_null" capture.pcm "jambox_null" }\npcm.jambox_null { type null }\n'


def jambox(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / ".asoundrc").write_text(ASOUNDRC)
    return subprocess.run([sys.executable, "-m", "jambox", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env=dict(os.environ, HOME=str(tmp_path)))


def args(tmp_path, **kw) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    doctor.add_arguments(p)
    ns = p.parse_args([])
    ns.config = None
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


def test_one_line_per_check_and_a_summary(tmp_path):
    cfg = tmp_path / "jambox.toml"
    cfg.write_text(f'[audio]\ninput_device = "jambox"\noutput_device = "jambox"\n'
                   f'[memory]\nstate_file = "{tmp_path / "state.db"}"\n')
    r = jambox(tmp_path, "--config", str(cfg), "doctor", "--only", "config", "--only", "audio",
               "--only", "soundfont", "--only", "state", "--only", "hat")
    lines = r.stdout.splitlines()
    assert [ln.split()[1].rstrip(":") for ln in lines[:-1]] == ["config", "audio", "hat", "soundfont", "state"]
    assert [ln.split()[0] for ln in lines[:-1]] == ["OK", "OK", "SKIP", "OK", "OK"], r.stdout
    assert lines[-1] == "All checks passed." and r.returncode == 0


def test_a_problem_makes_the_exit_status_non_zero_and_json_says_why(tmp_path):
    cfg = tmp_path / "jambox.toml"
    cfg.write_text(f'[performer]\nsoundfont = "{tmp_path / "missing.sf2"}"\n')
    r = jambox(tmp_path, "--config", str(cfg), "doctor", "--json", "--only", "soundfont", "--only", "config")
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["ok"] is False
    sf = {c["name"]: c for c in out["checks"]}["soundfont"]
    assert sf["status"] == "problem" and "missing.sf2 does not exist" in sf["message"] and sf["fix"]


def test_a_config_that_does_not_load_is_one_of_the_checks(tmp_path, capsys):
    bad = tmp_path / "jambox.toml"
    bad.write_text("[audio]\nsample_rate = 1\n")
    code = doctor.run(args(tmp_path, config=str(bad)), None)
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith("PROBLEM  config:") and "audio.sample_rate" in out[0]
    assert all(line.startswith("SKIP") for line in out[1:-1])  # the rest need a valid configuration


def test_root_points_the_checks_at_another_filesystem(tmp_path, capsys):
    (tmp_path / "proc/device-tree").mkdir(parents=True)
    (tmp_path / "proc/device-tree/model").write_bytes(b"Raspberry Pi 4 Model B\0")
    (tmp_path / "boot/firmware").mkdir(parents=True)
    (tmp_path / "boot/firmware/config.txt").write_text("dtoverlay=pisound\n")
    from jambox.config import load_config

    code = doctor.run(args(tmp_path, root=str(tmp_path), only=["hat"]), load_config(search=[]))
    out = capsys.readouterr().out
    assert code == 1 and "loads dtoverlay=pisound but there is no Blokas Pisound card" in out
