"""fold_session on a file: a recovered session teaches the taste exactly as one that ended cleanly."""

import json
import sqlite3

from jambox.memory import Memory
from jambox.memory.fold import fold_session, session_context

SR = 48000


def record(path, close: bool):
    m = Memory.open(path)
    for i, e in enumerate((0.5, 0.4, 0.3)):
        m.record_action("softer_all", source="t", stream_time=(i + 1) * 5 * SR, control=None, value=None, effect="",
                        settings={"energy": e, "meter": [4, 4], "tempo_bpm": 100.0}, riff=None)
    if close:
        m.close()
    else:  # pulled plug
        m._conn.close()
        m._closed = True


def test_recovered_and_clean_sessions_fold_alike(tmp_path):
    record(tmp_path / "clean.db", close=True)
    record(tmp_path / "crash.db", close=False)
    conn = sqlite3.connect(tmp_path / "crash.db", isolation_level=None)
    conn.execute("BEGIN")
    fold_session(conn, 1)
    fold_session(conn, 1)  # twice is once: the session is marked folded
    conn.execute("COMMIT")
    crash = dict(conn.execute("SELECT bucket, profile FROM taste"))
    sessions = conn.execute("SELECT sessions FROM taste WHERE bucket = '4/4@80-105'").fetchone()[0]
    conn.close()
    with Memory.open(tmp_path / "clean.db") as m:
        clean = {t["bucket"]: t["profile"] for t in m.export()["taste"]}
    assert sessions == 1
    assert {b: json.loads(p) for b, p in crash.items()} == clean
    assert clean["4/4@80-105"]["energy"]["value"] < 0.45


def test_the_latest_settings_say_the_meter_and_tempo_over_the_info():
    assert session_context({"heard_meter": [3, 4], "heard_tempo_bpm": 70.0}, []) == ((3, 4), 70.0)
    assert session_context({"meter": [3, 4]}, [{"meter": [6, 8]}, {"tempo_bpm": 150.0}]) == ((6, 8), 150.0)
    assert session_context({}, [{"meter": "?"}]) == (None, None)
