"""Who is recording a session: so that one a killed process left open is recovered, and one a live
process is still recording is left alone.

A session row carries ``boot-id:pid`` of its process. It is abandoned if it was recorded before the
last boot (a pulled plug), or its process is gone; within this process, if no Memory here is
recording it.
"""

from __future__ import annotations

import os


def owner_tag() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = "unknown-boot"
    return f"{boot}:{os.getpid()}"


# (state file, session id) of the sessions Memory objects in this process are recording now.
LIVE_SESSIONS: set[tuple[str, int]] = set()


def owner_alive(owner: str | None, session_key: tuple[str, int]) -> bool:
    """Whether the process that recorded a session may still be recording it."""
    if not owner or ":" not in owner:
        return False
    boot, _, pid = owner.rpartition(":")
    if boot != owner_tag().rpartition(":")[0]:
        return False  # recorded before the last reboot (or the plug was pulled)
    try:
        pid_i = int(pid)
    except ValueError:
        return False
    if pid_i == os.getpid():
        return session_key in LIVE_SESSIONS  # another Memory in this process may be recording it
    try:
        os.kill(pid_i, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
