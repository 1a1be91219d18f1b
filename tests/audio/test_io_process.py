"""The audio process's protocol without a device: a bad setup is answered, a closed stdin ends it."""

import json
import subprocess
import sys


def run_io(stdin: str):
    return subprocess.run([sys.executable, "-m", "jambox.audio.io_process"], input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_a_bad_setup_line_is_answered_with_an_error():
    out = run_io("this is not json\n")
    assert out.returncode == 0
    reply = json.loads(out.stdout.splitlines()[0])
    assert reply["type"] == "AudioDeviceError" and "bad setup line" in reply["error"]


def test_the_process_ends_when_the_engine_closes_its_stdin():
    out = run_io("")
    assert out.returncode == 0 and out.stdout == ""


def test_once_the_stream_is_open_no_collector_pass_can_pause_the_callback():
    code = ("from jambox.audio.io_process import _no_collector_pauses; import gc; _no_collector_pauses(); "
            "print(gc.isenabled(), gc.get_freeze_count() > 1000)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "True"], out.stderr


def test_off_jack_the_callbacks_thread_is_moved_to_sched_fifo_where_allowed():
    import os
    import threading

    from jambox.appliance.realtime import rt_limit
    from jambox.audio.io_process import CALLBACK_PRIORITY, _callback_thread_realtime
    from jambox.audio.jackd import realtime_allowed

    class Callback:  # what the function reads: the thread the first block ran on
        thread_id = None

    done, named = threading.Event(), threading.Event()

    def audio_thread():
        Callback.thread_id = threading.get_native_id()
        named.set()
        done.wait(10)

    t = threading.Thread(target=audio_thread, daemon=True)
    t.start()
    try:
        assert named.wait(5)
        _callback_thread_realtime(Callback)
        policy = os.sched_getscheduler(Callback.thread_id)
        prio = os.sched_getparam(Callback.thread_id).sched_priority
    finally:
        done.set()
        t.join(5)
    if realtime_allowed() and rt_limit() > 0:  # which case ran is in the assertion
        assert (policy, prio) == (os.SCHED_FIFO, min(CALLBACK_PRIORITY, rt_limit())), (policy, prio)
    else:
        assert policy == os.SCHED_OTHER, policy
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # only that thread, not the caller's
