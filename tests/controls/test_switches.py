import queue
import threading

from jambox.controls.actions import Action, ActionKind
from jambox.controls.gestures import GestureTiming
from jambox.controls.switches import SwitchBank, SwitchSpec, switch_spec, switch_specs
from tests.controls.fakes import FakeClock, config_with

K = ActionKind
T = GestureTiming(0.6, 0.35, 0.02)


def test_switch_spec_gives_the_mapping_of_a_switch_not_on_the_gpio():
    cfg = config_with()
    s = switch_spec(cfg, "footswitch2")
    assert (s.pin, s.press, s.long, s.double) == (-1, K.TAP, None, None)
    assert "footswitch2" not in [x.name for x in switch_specs(cfg)]


def test_a_bank_maps_gestures_and_leaves_unmapped_ones_out():
    got, clock = [], FakeClock(0.0)
    bank = SwitchBank(got.append, source="test", clock=clock)
    i = bank.add(SwitchSpec("x", -1, K.SOFTER, K.SOFTER_ALL, None), T)
    j = bank.add(SwitchSpec("y", -1, None, K.RESOLVE, None), T)
    clock.t = 1.0
    bank.edge(i, True)
    bank.edge(j, True)
    clock.t = 1.1
    bank.edge(i, False)
    bank.edge(j, False)  # a short press of y: its press does nothing
    clock.t = 2.0
    bank.poll()
    assert got == [Action(K.SOFTER, "test")]
    bank.edge(j, True)
    bank.poll(2.7)
    assert got == [Action(K.SOFTER, "test"), Action(K.RESOLVE, "test")]
    assert bank.submitted == 2


def test_the_timer_thread_wakes_for_the_earliest_deadline_of_any_switch():
    got: queue.SimpleQueue = queue.SimpleQueue()
    bank = SwitchBank(got.put, source="test")
    a = bank.add(SwitchSpec("a", -1, K.KEEP, None, K.LET_GO), GestureTiming(0.6, 0.1, 0.0))
    b = bank.add(SwitchSpec("b", -1, K.SOFTER, K.SOFTER_ALL, None), GestureTiming(0.2, 0.35, 0.0))
    bank.start()
    try:
        bank.edge(b, True)  # held: softer_all in 0.2 s
        bank.edge(a, True)
        bank.edge(a, False)  # single keep after 0.1 s
        assert got.get(timeout=3) == Action(K.KEEP, "test")
        assert got.get(timeout=3) == Action(K.SOFTER_ALL, "test")
    finally:
        bank.close()
    assert not [t for t in threading.enumerate() if t.name == "jambox-test-gestures"]


def test_a_failing_submit_does_not_stop_the_bank(caplog):
    got = []

    def submit(action):
        if action.kind is K.KEEP:
            raise RuntimeError("queue gone")
        got.append(action)

    bank = SwitchBank(submit, source="test", clock=FakeClock(1.0))
    i = bank.add(SwitchSpec("x", -1, K.KEEP, None, None), T)
    j = bank.add(SwitchSpec("y", -1, K.SOFTER, None, None), T)
    bank.edge(i, True)
    bank.edge(j, True)
    assert got == [Action(K.SOFTER, "test")]
    assert "queue gone" in caplog.text
