import pytest

from jambox.errors import ValueRangeError
from jambox.events import Heard
from jambox.generate.grid import MAX_CORRECTION, StepGrid, heard_meter

SR = 48000
BEAT = 24000.0  # 120 bpm


def heard(**kw) -> Heard:
    base = dict(sample_rate=SR, tempo_bpm=120.0, beat_period=BEAT, beat_phase=0, downbeat=0, meter=(4, 4))
    base.update(kw)
    return Heard(**base)


def drain(grid: StepGrid, h: Heard, now: int, until: int) -> list:
    out = []
    while (s := grid.next_step(h, now, until)) is not None:
        out.append(s)
    return out


def test_steps_are_16ths_on_the_bar_and_each_is_handed_out_once():
    g = StepGrid()
    h = heard()
    steps = []
    for now in range(0, int(8 * BEAT), 256):  # overlapping look-ahead windows, as the chain calls
        steps += drain(g, h, now, now + 256 + 12_000)
    times = [s.time for s in steps]
    assert times == sorted(set(times))
    assert all(abs(b - a - BEAT / 4) < 1e-6 for a, b in zip(times, times[1:]))
    assert [s.step_in_bar for s in steps[:18]] == list(range(16)) + [0, 1]
    assert [s.index for s in steps] == list(range(len(steps)))


def test_a_steady_tempo_drift_is_followed_without_skipping_or_repeating():
    g = StepGrid()
    steps = []
    now, period, last_beat, beats = 0, BEAT, 0.0, 0
    while now < 40 * BEAT:
        period *= 0.99999  # the player speeds up, about 4 % over the run
        while last_beat + period <= now:  # the listener places beats as they pass
            last_beat += period
            beats += 1
        h = heard(beat_period=period, tempo_bpm=60 * SR / period, beat_phase=int(last_beat),
                  downbeat=int(last_beat) if beats % 4 == 0 else None)
        steps += [(s, period) for s in drain(g, h, now, now + 256 + 12_000)]
        now += 256
    gaps = [(b.time - a.time) / (p / 4) for (a, _), (b, p) in zip(steps, steps[1:])]
    assert min(gaps) > 0.95 and max(gaps) < 1.05  # no step skipped or planned twice, no jumps
    assert steps[-1][0].time - steps[-2][0].time < steps[1][0].time - steps[0][0].time  # it got faster


def test_a_revised_phase_is_taken_up_a_little_per_step():
    g = StepGrid()
    first = drain(g, heard(), 0, 24_000)
    shifted = heard(beat_phase=3000, downbeat=3000)  # the listener moves the grid half a step later
    later = drain(g, shifted, 24_000, 96_000)
    gaps = [b.time - a.time for a, b in zip(first[-1:] + later, later)]
    assert all(gap <= (1 + MAX_CORRECTION) * BEAT / 4 + 1e-6 for gap in gaps)
    assert (later[-1].time - 3000) % (BEAT / 4) == pytest.approx(0.0, abs=1e-6)  # on the new grid


def test_eighth_note_meters_have_two_steps_per_beat_and_seven_eight_bars_of_fourteen():
    g = StepGrid()
    h = heard(meter=(7, 8), beat_period=12_000.0)
    steps = drain(g, h, 0, int(7 * 12_000 * 2))
    assert steps[0].meter.steps_per_beat == 2 and steps[0].meter.bar_steps == 14
    assert [s.step_in_bar for s in steps[:15]] == list(range(14)) + [0]


def test_nothing_without_a_grid_and_an_unplayable_meter_falls_back_to_four_four():
    g = StepGrid()
    assert g.next_step(Heard(sample_rate=SR), 0, 10_000) is None
    assert heard_meter(heard(meter=(11, 16))).name == "4/4"
    with pytest.raises(ValueRangeError, match="beat period"):
        g.next_step(heard(beat_period=-5.0), 0, 10_000)


def test_after_a_gap_it_starts_again_at_now_not_in_the_past():
    g = StepGrid()
    drain(g, heard(), 0, 24_000)
    later = drain(g, heard(), 480_000, 500_000)
    assert later[0].time >= 480_000 - 1e-6
