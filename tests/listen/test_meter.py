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
