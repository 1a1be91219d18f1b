"""Realtime scheduling: only the calling thread, only within RLIMIT_RTPRIO, and a clear log line when not allowed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from jambox.appliance.realtime import current_policy, make_realtime, rt_limit

REPO = Path(__file__).resolve().parents[2]


def test_without_an_rtprio_limit_it_declines_and_says_why():
    """For real, as an unprivileged user with RLIMIT_RTPRIO 0 (a shell outside the service)."""
    code = ("import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout); "
            "from jambox.appliance.realtime import make_realtime, rt_limit, current_policy; "
            "print(rt_limit(), make_realtime(70, 'the renderer'), current_policy()[0])")
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + cmd
    r = subprocess.run(["prlimit", "--rtprio=0", *cmd], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "no realtime scheduling for the renderer (RLIMIT_RTPRIO is 0" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "0 False SCHED_OTHER"


def test_it_changes_only_the_calling_thread(caplog):
    result = {}

    def worker():
        result["ok"] = make_realtime(10, "a test thread")
        result["policy"] = current_policy()

    with caplog.at_level(logging.INFO):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert current_policy()[0] == "SCHED_OTHER"  # the main thread is untouched either way
    if result["ok"]:
        assert result["policy"] == ("SCHED_FIFO", min(10, rt_limit()))
    else:  # this machine forbids it (no CAP_SYS_NICE, no rlimit): it must have said so
        assert result["policy"][0] == "SCHED_OTHER" and "no realtime scheduling for a test thread" in caplog.text
