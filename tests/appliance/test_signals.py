"""SIGTERM and friends become one stop event, with the previous handlers restored afterwards."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from jambox.appliance.signals import StopSignals


def test_sigterm_sets_the_stop_event_instead_of_killing_the_process():
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals() as stop:
        assert not stop.requested()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2.0)
        assert stop.received == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_sighup_and_sigint_also_stop():
    for sig in (signal.SIGHUP, signal.SIGINT):
        with StopSignals() as stop:
            os.kill(os.getpid(), sig)
            assert stop.wait(2.0) and stop.received == sig


def test_a_second_signal_while_stopping_breaks_out():
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2.0)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next bytecode
            threading.Event().wait(1.0)


def test_only_the_main_thread_may_install_it():
    errors = []

    def other():
        try:
            with StopSignals():
                pass
        except RuntimeError as e:
            errors.append(str(e))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert errors and "main thread" in errors[0]
