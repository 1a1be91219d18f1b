"""systemd's side of sd_notify without systemd: real child processes using jambox's own Notifier and StopSignals."""

from __future__ import annotations

import sys
import textwrap

from jambox.appliance.ready import main, wait_for_ready

SERVICE = textwrap.dedent("""
    import sys, time
    from jambox.appliance import Notifier, StopSignals
    n = Notifier()
    with StopSignals() as stop:
        n.status("loading the model")
        time.sleep(float(sys.argv[1]))
        n.ready("playing")
        while not stop.wait(0.01):
            n.watchdog()
        n.stopping("stopping on " + stop.received.name)
""")


def test_ready_watchdog_and_a_clean_stop():
    r = wait_for_ready([sys.executable, "-c", SERVICE, "0.3"], timeout=30, hold=0.6, watchdog_usec=200_000)
    assert r.ready and r.ready_s >= 0.3
    assert r.status == "playing"
    assert r.watchdog_pings >= 3  # every 0.1 s (half the interval) for 0.6 s
    assert r.stopped_by_us and r.stopping_sent and r.exit_code == 0


def test_a_child_that_dies_before_ready():
    r = wait_for_ready([sys.executable, "-c", "import sys; print('no sound card'); sys.exit(5)"], timeout=30)
    assert not r.ready and r.exit_code == 5 and not r.stopped_by_us
    assert "no sound card" in r.output_tail


def test_a_child_that_never_gets_ready_is_stopped_at_the_timeout():
    r = wait_for_ready([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert not r.ready and r.stopped_by_us and r.stop_s < 5


def test_command_line(capsys):
    assert main(["--timeout", "30", "--", sys.executable, "-c", SERVICE, "0"]) == 0
    assert capsys.readouterr().out.startswith("ready after ")
    assert main(["--timeout", "30", "--", sys.executable, "-c", "raise SystemExit(2)"]) == 1
    assert "exited with status 2 before READY" in capsys.readouterr().err
