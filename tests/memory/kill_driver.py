"""Pull the plug on a recording process, many times: the driver of ``test_durability.py``.

``python kill_driver.py STATE_FILE ROUNDS SEED`` forks a child per round that opens the state file and
records actions (and kept parts, and control changes) as fast as it can, writing each acknowledged
id to a pipe the moment its call returns; after a random few milliseconds the driver kills it with
SIGKILL, wherever it is: opening, migrating, recovering the previous child's session, in the middle
of a transaction. The driver then opens the file itself and checks that every acknowledged id is
there. The random delay runs from the fork (kills in opening, migrating, recovering), from the
child's "opened" line, or from its k-th acknowledgement (mid-stream), so that a busy machine still
kills writers at work. At the end it prints one JSON line of findings. Forking (rather than a fresh interpreter per
round) keeps hundreds of rounds within seconds.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sqlite3
import sys
import time


def child(path: str, out_fd: int, seed: int) -> None:
    from jambox.memory import Memory

    rng = random.Random(seed)
    memory = Memory.open(path)
    os.write(out_fd, b"R\n")  # open: from here the driver's random delay runs
    t = 0
    while True:
        t += rng.randrange(100, 5000)
        settings = {"energy": rng.random(), "dissonance": rng.random(), "meter": [4, 4], "tempo_bpm": 100.0}
        memory.note_controls(settings, t)
        if rng.random() < 0.2:
            kid = memory.save_kept("riff-x", "drums", {"steps": [rng.randrange(2) for _ in range(16)]}, settings)
            os.write(out_fd, f"K{kid}\n".encode())
        aid = memory.record_action("softer", source="killtest", stream_time=t, control=None, value=None,
                                   effect="pulled back", settings=settings, riff="riff-x")
        os.write(out_fd, f"A{aid}\n".encode())
        if rng.random() < 0.05:
            memory.end_session(t)  # folding into the taste is a transaction a kill can land in too
        if rng.random() < 0.1:
            memory.save_session_state({"t": t, "settings": settings})


def read_all(fd: int) -> bytes:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    return b"".join(chunks)


def main() -> int:
    path, rounds, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    from jambox.memory import Memory  # imported before forking, so each child starts at once

    acked = {"A": set(), "K": set()}
    missing = []
    killed_with_acks = 0
    t0 = time.monotonic()
    for r in range(rounds):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            try:
                child(path, write_fd, seed * 100_000 + r)
            finally:
                os._exit(1)
        os.close(write_fd)
        head = b""
        mode = rng.random()
        if mode < 0.2:
            wait_for = None  # timed from the fork: the kill may land in the open, a migration, a recovery
        elif mode < 0.5:
            wait_for = (b"R\n", 1)  # timed from the open: the first transactions of a session
        else:
            wait_for = (b"\nA", rng.randint(1, 6))  # mid-stream: after a few acknowledged actions
        deadline = time.monotonic() + 10.0
        while wait_for and head.count(wait_for[0]) < wait_for[1] and time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], 0.5)
            if ready:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                head += chunk
        time.sleep(rng.uniform(0.001, 0.030))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        lines = (head + read_all(read_fd)).decode().split("\n")
        complete = lines[:-1]  # the last piece may be a line cut short by the kill: not acknowledged
        this_round = {"A": set(), "K": set()}
        for line in complete:
            if line[0] in this_round:
                this_round[line[0]].add(int(line[1:]))
        killed_with_acks += bool(this_round["A"])
        with Memory.open(path) as m:  # recovers the killed child's session, as a restarted box would
            if m.problem:
                missing.append(f"round {r}: problem {m.problem}")
            conn = m._conn
            for kind, table in (("A", "actions"), ("K", "kept")):
                ids = this_round[kind]
                if ids:
                    q = f"SELECT COUNT(*) FROM {table} WHERE id IN ({','.join(map(str, ids))})"
                    if conn.execute(q).fetchone()[0] != len(ids):
                        missing.append(f"round {r}: {kind} ids lost")
                acked[kind] |= ids
    conn = sqlite3.connect(path)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    present_a = {r[0] for r in conn.execute("SELECT id FROM actions")}
    present_k = {r[0] for r in conn.execute("SELECT id FROM kept")}
    sessions, folded = conn.execute("SELECT COUNT(*), SUM(folded) FROM sessions").fetchone()
    conn.close()
    print(json.dumps({
        "rounds": rounds,
        "seconds": round(time.monotonic() - t0, 2),
        "acked_actions": len(acked["A"]),
        "acked_kept": len(acked["K"]),
        "rounds_killed_after_acks": killed_with_acks,
        "lost_actions": sorted(acked["A"] - present_a),
        "lost_kept": sorted(acked["K"] - present_k),
        "committed_not_acked": len(present_a - acked["A"]),
        "integrity": integrity,
        "sessions": sessions,
        "sessions_folded": folded or 0,
        "problems": missing[:10],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
