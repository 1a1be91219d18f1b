"""The config, model, soundfont and state-file checks, against real files made broken in known ways."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from jambox.config import load_config
from jambox.doctor import OK, PROBLEM, Context
from jambox.doctor.files import check_config, check_model, check_soundfont, check_state, soundfont_problem

REPO = Path(__file__).resolve().parents[2]
FLUID_R3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def ctx(overrides=None, **kw) -> Context:
    cfg = load_config(search=[])
    if overrides:
        cfg = cfg.with_overrides(overrides)
    return Context(config=cfg, config_sources=cfg.sources, **kw)


# -- config ------------------------------------------------------------------------------------

def test_config_ok_names_the_files_read(tmp_path):
    f = tmp_path / "jambox.toml"
    f.write_text("[audio]\nsample_rate = 44100\n")
    cfg = load_config(f)
    c = check_config(Context(config=cfg, config_sources=cfg.sources))
    assert c.status == OK and str(f) in c.message


def test_config_error_is_reported_as_a_problem():
    c = check_config(Context(config=None, config_error="audio.sample_rate must be one of 44100, 48000, 96000, not 1"))
    assert c.status == PROBLEM and "not 1" in c.message


# -- model -------------------------------------------------------------------------------------

def test_missing_model_file(tmp_path):
    c = check_model(ctx({"generator": {"model": str(tmp_path / "nowhere.onnx")}}))
    assert c.status == PROBLEM and "nowhere.onnx" in c.message and "deploy.sh" in c.fix


def test_corrupt_model_file(tmp_path):
    bad = tmp_path / "jambox-int8.onnx"
    bad.write_bytes(os.urandom(4096))
    c = check_model(ctx({"generator": {"model": str(bad)}}))
    assert c.status == PROBLEM and str(bad) in c.message


def test_the_shipped_model_loads():
    from jambox.generate.model import default_model_path

    assert default_model_path("onnx").is_file(), "the shipped model (models/jambox-int8.onnx) is missing"
    c = check_model(ctx())
    assert c.status == OK and "jambox-int8.onnx" in c.message


# -- soundfont ---------------------------------------------------------------------------------

@pytest.mark.skipif(not FLUID_R3.is_file(), reason="fluid-soundfont-gm is not installed")
def test_the_system_soundfont_is_fine():
    c = check_soundfont(ctx())
    assert c.status == OK and "FluidR3_GM.sf2" in c.message


def test_missing_soundfont(tmp_path):
    c = check_soundfont(ctx({"performer": {"soundfont": str(tmp_path / "none.sf2")}}))
    assert c.status == PROBLEM and "does not exist" in c.message and "fluid-soundfont-gm" in c.fix


def test_soundfont_that_is_not_one(tmp_path):
    f = tmp_path / "x.sf2"
    f.write_bytes(b"ID3\x03" + os.urandom(100))
    assert "not a SoundFont 2 file" in soundfont_problem(f)


def test_truncated_soundfont(tmp_path):
    f = tmp_path / "cut.sf2"
    f.write_bytes(b"RIFF" + (10_000).to_bytes(4, "little") + b"sfbk" + b"\0" * 100)
    assert "truncated" in soundfont_problem(f)
    assert soundfont_problem(tmp_path) is not None  # a directory


# -- state file --------------------------------------------------------------------------------

def test_a_healthy_state_file(tmp_path):
    from jambox.memory import Memory

    path = tmp_path / "state.db"
    with Memory.open(path) as m:
        m.record_action("keep", source="test", stream_time=0, control=None, value=None, effect="kept",
                        settings={}, riff=None)
    c = check_state(ctx(state_file=str(path)))
    assert c.status == OK and "healthy" in c.message


def test_a_state_file_not_yet_made(tmp_path):
    c = check_state(ctx(state_file=str(tmp_path / "new" / "state.db")))
    assert c.status == OK and "will be created" in c.message
    assert not (tmp_path / "new").exists()  # the doctor creates nothing


def test_a_corrupt_state_file_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"SQLite format 3\0" + os.urandom(8000))
    before = path.read_bytes()
    c = check_state(ctx(state_file=str(path)))
    assert c.status == PROBLEM and "unusable" in c.message and "move it aside" in c.fix
    assert path.read_bytes() == before  # read-only: nothing moved, nothing changed


def test_a_sqlite_file_that_is_not_ours(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    c = check_state(ctx(state_file=str(path)))
    assert c.status == PROBLEM and "not a jambox state file" in c.message


def test_state_path_that_is_a_directory(tmp_path):
    c = check_state(ctx(state_file=str(tmp_path)))
    assert c.status == PROBLEM and "is a directory" in c.message


def test_state_directory_that_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    c = check_state(ctx(state_file=str(tmp_path / "afile" / "state.db")))
    assert c.status == PROBLEM and "is a file, not a directory" in c.message


@pytest.fixture
def world_readable_dir():
    """A temp dir an unprivileged user can read (pytest's own tmp_path sits in a root-only directory)."""
    d = Path(tempfile.mkdtemp(prefix="jambox-doctor-"))
    d.chmod(0o755)
    yield d
    for p in d.rglob("*"):
        p.chmod(0o755)
    shutil.rmtree(d)


def test_an_unwritable_state_directory(world_readable_dir):
    """For real: the directory's mode forbids writing, checked as an unprivileged user (root may write anywhere)."""
    locked = world_readable_dir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    cfg = world_readable_dir / "jambox.toml"
    cfg.write_text(f'[memory]\nstate_file = "{locked / "state.db"}"\n')
    cfg.chmod(0o644)
    cmd = [sys.executable, "-m", "jambox", "--config", str(cfg), "doctor", "--only", "state"]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO,
                       env=dict(os.environ, HOME=str(world_readable_dir)))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "PROBLEM  state: the state directory" in r.stdout and "not writable" in r.stdout
