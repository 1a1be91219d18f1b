"""Realtime scheduling for the threads the audio depends on, without any privilege.

The unit gives the service ``LimitRTPRIO=95``: an unprivileged process may then move its own threads
to SCHED_FIFO up to that priority. A thread that renders audio ahead of the callback (the renderer)
or feeds it (the logic thread) can call :func:`make_realtime` once when it starts; on Linux
``sched_setscheduler(0, ...)`` applies to the calling thread only, so the model's other work and
the rest of the process keep normal scheduling. Where the limit is 0 (a laptop shell, a container)
it says so once in the log and the box runs as before, with more risk of underruns under load.

Never call it from the audio callback: it is a system call, and PortAudio/JACK own that thread.
"""

from __future__ import annotations

import logging
import os
import resource

log = logging.getLogger(__name__)

RENDERER_PRIORITY = 70  # under JACK's own (typically 80-95 for its process thread)
LOGIC_PRIORITY = 60


def rt_limit() -> int:
    """The highest SCHED_FIFO priority this process may take (RLIMIT_RTPRIO; 0 = none; root: 99)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    if os.geteuid() == 0:
        return 99
    return 99 if soft == resource.RLIM_INFINITY else int(soft)


def make_realtime(priority: int, what: str = "this thread") -> bool:
    """Move the calling thread to SCHED_FIFO at ``priority`` (capped at the limit). False if not allowed."""
    limit = rt_limit()
    if limit <= 0:
        log.info("no realtime scheduling for %s (RLIMIT_RTPRIO is 0; the jambox service sets LimitRTPRIO)", what)
        return False
    prio = max(1, min(int(priority), limit, os.sched_get_priority_max(os.SCHED_FIFO)))
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(prio))
    except OSError as e:  # EPERM: a container without the capability, or a seccomp filter
        log.info("no realtime scheduling for %s (%s)", what, e.strerror or e)
        return False
    log.debug("%s runs SCHED_FIFO at priority %d", what, prio)
    return True


def current_policy() -> tuple[str, int]:
    """The calling thread's scheduling policy name and priority (for logs and tests)."""
    policy = os.sched_getscheduler(0)
    names = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_FIFO: "SCHED_FIFO", os.SCHED_RR: "SCHED_RR"}
    return names.get(policy, str(policy)), os.sched_getparam(0).sched_priority
