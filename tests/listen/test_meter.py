"""Meter from notes placed on the beat grid: the same rhythm swung or straight, in 3/4 or 6/8."""

import pytest

from jambox.listen.meter import MeterTracker

# a two-bar line of six beats: the one and beat 4 (bar two's one, a loop of 2 x 3/4 or 1 x 6/8)
# accented and low; a note between the beats on the one and on beat 4, the other beats plain
LINE = [(0.0, 33, 1.12), (1.0, 40, 0.8), (2.0, 45, 0.8), (3.0, 36, 1.12), (4.0, 43, 0.8), (5.0, 40, 0.8)]


def meter_of(offbeat_position: float) -> tuple[int, int]:
    m = MeterTracker()
    for bar in range(8):
        for beat, pitch, weight in LINE:
            m.add(bar * 6 + beat, pitch, weight)
            if beat in (0.0, 3.0):
                m.add(bar * 6 + beat + offbeat_position, pitch + 7, 0.7)
        guess = m.update(bar * 6 + 6)
    return guess.meter


@pytest.mark.parametrize("swing", [0.6, 0.667])
def test_a_swung_line_is_in_quarter_beats(swing):
    """Few notes between the beats (a quarter of them), but swung: eighths are swung only in x/4."""
    assert meter_of(swing) == (3, 4)


def test_the_same_line_straight_is_6_8():
    assert meter_of(0.5) == (6, 8)


# a two-bar 4/4 riff, the root low and heavy on each one
RIFF = [[(0.0, 33, 1.1), (0.5, 45, 0.8), (1.0, 40, 0.8), (2.0, 43, 0.9), (2.5, 45, 0.8), (3.0, 40, 0.8)],
        [(0.0, 38, 1.1), (1.0, 45, 0.8), (1.5, 50, 0.8), (2.0, 41, 0.9), (3.0, 40, 0.8), (3.5, 38, 0.8)]]
OTHER_RIFF = [[(0.0, 31, 1.1), (0.25, 31, 0.7), (0.75, 43, 0.8), (1.75, 38, 0.9), (3.25, 42, 0.8)],
              [(0.0, 36, 1.1), (0.25, 36, 0.7), (1.25, 48, 0.8), (2.75, 40, 0.9), (3.75, 47, 0.8)]]  # 16ths


def new_riffs_heard(second_riff, from_bar: int, slip_beats: int) -> list[int]:
    """Play RIFF, then from ``from_bar`` on ``second_riff`` placed ``slip_beats`` later: the beats
    at which a new riff was called."""
    m = MeterTracker()
    called = []
    for bar in range(16):
        later = bar >= from_bar
        shift = slip_beats if later else 0
        for beat, pitch, weight in (second_riff if later else RIFF)[bar % 2]:
            m.add(bar * 4 + beat + shift, pitch, weight)
        for beat in range(1, 5):
            if m.update(bar * 4 + beat + shift).new_riff:
                called.append(bar * 4 + beat + shift)
    return called


@pytest.mark.parametrize("from_bar", [5, 6, 7, 8])
def test_a_grid_that_slips_a_beat_is_no_new_riff(from_bar):
    """A drifting player: the grid counts one beat too many once, and the riff goes on a beat later."""
    assert new_riffs_heard(RIFF, from_bar, slip_beats=1) == []


def test_a_new_riff_is_called_once():
    called = new_riffs_heard(OTHER_RIFF, 8, slip_beats=0)
    assert len(called) == 1 and 32 < called[0] <= 44
