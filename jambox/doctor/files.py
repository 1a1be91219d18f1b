"""The files the box needs: its configuration, the model, the soundfont and the state file.

Each is checked the way ``jambox run`` will use it (the model through ``load_model``, the state
file through SQLite), but read-only: a corrupt state file is reported, not moved aside (that is
``jambox run``'s job, which keeps the bad file for inspection), and nothing is created.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

from jambox.doctor import Check, Context, ok, problem


def check_config(ctx: Context) -> Check:
    name = "config"
    if ctx.config_error is not None:
        return problem(name, ctx.config_error,
                       "edit the file named above (every key is documented in jambox/config/default.toml; "
                       "`jambox config` prints the effective configuration once it loads).")
    files = [s for s in ctx.config_sources[1:]]
    return ok(name, "defaults" + (" + " + ", ".join(files) if files else " only (no /etc/jambox/jambox.toml or user file)"))


def check_model(ctx: Context) -> Check:
    name = "model"
    gen = ctx.config.generator
    try:
        from jambox.generate.model import default_model_path, load_model
    except ImportError as e:
        return problem(name, f"the generator cannot be imported ({e})",
                       "reinstall jambox with its dependencies (deploy.sh, or pip install -e . in a checkout).")
    from jambox.errors import JamboxError

    path = gen.model or str(default_model_path(gen.backend))
    try:
        model = load_model(gen.model or None, gen.backend)
    except ImportError as e:  # the tflite backend without tflite-runtime
        return problem(name, f"the {gen.backend} backend is not installed ({e})",
                       "pip install 'jambox[tflite]', or set generator.backend = \"onnx\".")
    except JamboxError as e:
        return problem(name, str(e),
                       "re-run deploy.sh (it installs the shipped models), or set generator.model to a valid "
                       ".onnx file; `jambox export` rebuilds them from a checkpoint.")
    close = getattr(model, "close", None)
    if callable(close):
        close()
    return ok(name, f"{path} loads ({gen.backend})")


def soundfont_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable SoundFont 2 file, or None. Reads 12 bytes: cheap on a 140 MB font."""
    if not path.exists():
        return f"{path} does not exist"
    if path.is_dir():
        return f"{path} is a directory, not a .sf2 file"
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as e:
        return f"cannot read {path}: {e.strerror or e}"
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        return f"{path} is not a SoundFont 2 file (no RIFF/sfbk header)"
    declared = struct.unpack("<I", head[4:8])[0] + 8
    actual = path.stat().st_size
    if actual < declared:
        return f"{path} is truncated ({actual} of {declared} bytes)"
    return None


def check_soundfont(ctx: Context) -> Check:
    name = "soundfont"
    path = Path(ctx.config.performer.soundfont).expanduser()
    why = soundfont_problem(path)
    if why is not None:
        return problem(name, why, "sudo apt install fluid-soundfont-gm (it installs "
                                  "/usr/share/sounds/sf2/FluidR3_GM.sf2), or set performer.soundfont to a .sf2 file.")
    return ok(name, f"{path} ({path.stat().st_size / 1e6:.0f} MB)")


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_state(ctx: Context) -> Check:
    name = "state"
    from jambox.memory.paths import state_path

    path = state_path(ctx.state_file, ctx.config.memory.state_file)
    parent = path.parent
    fix_place = ("run jambox as the jambox user (sudo -u jambox jambox doctor) or make the directory writable "
                 "for it; under systemd StateDirectory=jambox creates /var/lib/jambox; or choose another file "
                 "with memory.state_file or --state.")
    if path.is_dir():
        return problem(name, f"the state file {path} is a directory", "remove it or point memory.state_file elsewhere.")
    if parent.exists() and not parent.is_dir():
        return problem(name, f"the state file's directory {parent} is a file, not a directory",
                       "move that file away, or choose another state file with memory.state_file or --state.")
    if not parent.exists():
        base = _nearest_existing(parent)
        if not os.access(base, os.W_OK | os.X_OK):
            return problem(name, f"{parent} does not exist and cannot be created ({base} is not writable)", fix_place)
        return ok(name, f"{path} will be created on the first run (its directory can be made)")
    if not os.access(parent, os.W_OK | os.X_OK):
        return problem(name, f"the state directory {parent} is not writable, so nothing the player does is kept",
                       fix_place)
    if not path.exists():
        return ok(name, f"{path} will be created on the first run")
    if not os.access(path, os.R_OK | os.W_OK):
        return problem(name, f"cannot read and write the state file {path}", fix_place)
    why = _state_file_problem(path)
    aside = sorted(p.name for p in parent.glob(path.name + ".corrupt-*") if not p.name.endswith(("-wal", "-shm")))
    note = f" ({len(aside)} unusable file(s) were moved aside earlier, latest {aside[-1]})" if aside else ""
    if why is not None:
        return problem(name, f"the state file {path} is unusable: {why}",
                       "jambox run will move it aside (kept as state.db.corrupt-<time>) and start a fresh one; "
                       "to keep what it holds, restore a backup over it first (jambox state reset keeps one).")
    return ok(name, f"{path} is a healthy jambox state file{note}")


def _state_file_problem(path: Path) -> str | None:
    from jambox.memory.schema import SCHEMA_VERSION

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error as e:
        return str(e)
    try:
        result = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        if result != ["ok"]:
            return "integrity check failed: " + "; ".join(map(str, result[:3]))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as e:
        return str(e)
    finally:
        conn.close()
    if version > SCHEMA_VERSION:
        return f"schema version {version} is newer than this jambox knows ({SCHEMA_VERSION}); upgrade jambox"
    if version == 0 and tables:
        return f"a SQLite file but not a jambox state file (tables: {', '.join(sorted(tables)[:5])})"
    if version == 0:
        return None  # empty: jambox run migrates it
    from jambox.memory.schema import tables_at

    missing = set(tables_at(version)) - tables
    if missing:
        return f"schema version {version} but tables missing: {', '.join(sorted(missing))}"
    return None

