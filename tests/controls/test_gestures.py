import pytest

from jambox.controls.gestures import Gesture, GestureDetector, GestureTiming
from jambox.errors import ValueRangeError

T = GestureTiming(long_press_s=0.6, double_press_s=0.35, debounce_s=0.02)
P, L, D = Gesture.PRESS, Gesture.LONG, Gesture.DOUBLE


def run(det, edges, until):
    """Feed (time, level) edges, polling at every deadline up to ``until``; returns (time, gesture)."""
    out = []
    pending = sorted(edges)
    while True:
        d = det.deadline
        nxt = pending[0][0] if pending else None
        if nxt is not None and (d is None or nxt < d):
            t, level = pending.pop(0)
            out += [(t, g) for g in det.edge(level, t)]
        elif d is not None and d <= until:
            out += [(d, g) for g in det.poll(d)]
        else:
            return out


def test_press_only_fires_on_the_down_edge():
    det = GestureDetector(T)
    assert det.edge(True, 1.0) == [P]
    assert det.edge(False, 1.1) == []
    assert det.poll(5.0) == []


def test_long_press_fires_while_held_and_its_release_does_nothing():
    det = GestureDetector(T, long=True)
    assert det.edge(True, 1.0) == []
    assert det.deadline == pytest.approx(1.02)  # the debounce spell ends first
    assert det.poll(1.59) == []
    assert det.deadline == pytest.approx(1.6)
    assert det.poll(1.6) == [L]
    assert det.edge(False, 2.5) == []
    assert det.poll(9.0) == []


def test_short_press_with_long_mapped_fires_on_release():
    det = GestureDetector(T, long=True)
    assert run(det, [(1.0, True), (1.3, False)], 9.0) == [(1.3, P)]


def test_double_press_fires_on_the_second_down_edge():
    det = GestureDetector(T, double=True)
    got = run(det, [(1.0, True), (1.1, False), (1.3, True), (1.4, False)], 9.0)
    assert got == [(1.3, D)]


def test_single_press_with_double_mapped_waits_out_the_window():
    det = GestureDetector(T, double=True)
    got = run(det, [(1.0, True), (1.1, False)], 9.0)
    assert got == [(pytest.approx(1.1 + 0.35), P)]


def test_presses_too_far_apart_are_two_presses():
    det = GestureDetector(T, double=True)
    got = run(det, [(1.0, True), (1.1, False), (1.5, True), (1.6, False)], 9.0)
    assert [g for _, g in got] == [P, P]


def test_triple_press_is_a_double_then_a_pending_single():
    det = GestureDetector(T, double=True)
    got = run(det, [(1.0, True), (1.1, False), (1.2, True), (1.3, False), (1.4, True), (1.5, False)], 9.0)
    assert [g for _, g in got] == [D, P]


def test_long_and_double_on_one_switch():
    det = GestureDetector(T, long=True, double=True)
    assert [g for _, g in run(det, [(1.0, True), (1.8, False)], 9.0)] == [L]
    det = GestureDetector(T, long=True, double=True)
    assert [g for _, g in run(det, [(1.0, True), (1.1, False), (1.2, True), (2.5, False)], 9.0)] == [D]
    det = GestureDetector(T, long=True, double=True)
    assert [g for _, g in run(det, [(1.0, True), (1.1, False)], 9.0)] == [P]


def test_contact_chatter_is_one_press():
    det = GestureDetector(T, long=True)
    bounces = [(1.0, True), (1.002, False), (1.004, True), (1.007, False), (1.009, True),
               (1.2, False), (1.202, True), (1.205, False)]
    assert run(det, bounces, 9.0) == [(1.2, P)]


def test_chatter_on_a_press_only_switch_is_one_press():
    det = GestureDetector(T)
    bounces = [(1.0, True), (1.003, False), (1.006, True), (1.3, False), (1.302, True), (1.304, False),
               (1.6, True), (1.601, False), (1.602, True)]
    assert [t for t, _ in run(det, bounces, 9.0)] == [1.0, 1.6]


def test_a_tap_shorter_than_the_debounce_still_counts():
    det = GestureDetector(T, long=True)
    got = run(det, [(1.0, True), (1.01, False)], 9.0)
    assert got == [(pytest.approx(1.02), P)]
    assert not det.pressed


def test_zero_debounce_takes_every_edge():
    det = GestureDetector(GestureTiming(0.6, 0.35, 0.0))
    assert [g for _, g in run(det, [(1.0, True), (1.001, False), (1.002, True)], 9.0)] == [P, P]


def test_a_release_without_a_press_does_nothing():
    det = GestureDetector(T, long=True, double=True, pressed=True)  # held when we started listening
    assert det.edge(False, 1.0) == []
    assert det.poll(9.0) == []


def test_timing_is_validated():
    with pytest.raises(ValueRangeError, match="long_press_s must be a number of seconds >= 0, not -1"):
        GestureTiming(long_press_s=-1)
    with pytest.raises(ValueRangeError, match="debounce_s must be shorter than long_press_s"):
        GestureTiming(long_press_s=0.2, debounce_s=0.3)


def test_timing_from_config():
    from jambox.config.load import load_config

    c = load_config(search=[]).controls
    t = GestureTiming.from_config(c)
    assert (t.long_press_s, t.double_press_s, t.debounce_s) == (c.long_press_s, c.double_press_s, c.debounce_ms / 1000)
