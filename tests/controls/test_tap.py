import pytest

from jambox.controls.tap import TapTempo
from jambox.errors import ValueRangeError

SR = 48000


def taps(t, times_s):
    est = None
    for s in times_s:
        est = t.tap(round(s * SR))
    return est


def test_two_taps_give_a_tempo_and_a_phase():
    t = TapTempo(SR)
    assert t.tap(0) is None
    est = t.tap(SR // 2)
    assert est.bpm == pytest.approx(120.0)
    assert est.beat_period == pytest.approx(SR / 2)
    assert est.phase == SR // 2 and est.taps == 2


def test_the_median_shrugs_off_one_sloppy_tap():
    t = TapTempo(SR)
    est = taps(t, [0.0, 0.5, 1.0, 1.62, 2.0, 2.5, 3.0])  # one tap 120 ms late
    assert est.bpm == pytest.approx(120.0, abs=0.5)
    assert est.taps == 7


def test_a_pause_starts_a_fresh_run():
    t = TapTempo(SR)
    taps(t, [0.0, 0.5, 1.0])
    assert t.tap(round(6.0 * SR)) is None  # 5 s later: one tap of a new run
    est = taps(t, [6.75])
    assert est.bpm == pytest.approx(80.0)


def test_a_clearly_different_tempo_restarts_from_the_previous_tap():
    t = TapTempo(SR)
    taps(t, [0.0, 0.5, 1.0, 1.5])
    est = taps(t, [2.25, 3.0])  # now 80 bpm
    assert est.bpm == pytest.approx(80.0)
    assert est.taps == 3


def test_bounces_and_repeats_are_ignored():
    t = TapTempo(SR)
    taps(t, [0.0, 0.5])
    est = taps(t, [0.52, 0.5])  # a bounce 20 ms later, and the same tap again
    assert est.bpm == pytest.approx(120.0) and est.taps == 2


def test_only_recent_taps_count():
    t = TapTempo(SR, max_taps=4)
    est = taps(t, [0.0, 0.6, 1.2, 1.8, 2.3, 2.8, 3.3])
    assert est.taps == 4
    assert est.bpm == pytest.approx(120.0)


def test_bad_parameters_are_clear():
    with pytest.raises(ValueRangeError, match="sample rate must be a positive integer, not 0"):
        TapTempo(0)
    with pytest.raises(ValueRangeError, match="0 < min_bpm < max_bpm, not 200..100"):
        TapTempo(SR, min_bpm=200, max_bpm=100)
