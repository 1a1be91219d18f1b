import pytest

from jambox.events import Heard, Note
from jambox.generate.context import PlanContext

SR = 48000
BEAT = 24000.0
STEP = BEAT / 4
LOOP = 32 * STEP  # two bars


def heard(notes, loop=True, key=(4, "minor")) -> Heard:
    return Heard(sample_rate=SR, tempo_bpm=120.0, beat_period=BEAT, beat_phase=0, downbeat=0,
                 key_tonic=key[0] if key else None, key_mode=key[1] if key else "major",
                 loop_bars=2 if loop else None, loop_start=0 if loop else None, notes=tuple(notes))


RIFF = [Note(int(s * STEP), p, 100, int(s * STEP) + 2400, int((s + 1.5) * STEP)) for s, p in ((0, 40), (3, 43), (8, 45))]


def test_a_past_step_reads_what_was_heard():
    ctx = PlanContext(heard(RIFF), SR)
    b = ctx.bass_at(3 * STEP, STEP, now=int(LOOP), heard=heard(RIFF))
    assert b.known and b.onset and b.pitch == 43 and b.velocity == pytest.approx(100 / 127)
    rest = ctx.bass_at(6 * STEP, STEP, now=int(LOOP), heard=heard(RIFF))
    assert rest.known and not rest.onset and rest.pitch is None  # heard silence is known


def test_a_future_step_is_predicted_from_one_loop_earlier_and_unknown_without_a_loop():
    h = heard(RIFF)
    ctx = PlanContext(h, SR)
    b = ctx.bass_at(LOOP + 8 * STEP, STEP, now=int(LOOP + 7 * STEP), heard=h)
    assert b.known and b.onset and b.pitch == 45
    h2 = heard(RIFF, loop=False)
    assert not PlanContext(h2, SR).bass_at(LOOP + 8 * STEP, STEP, now=int(LOOP + 7 * STEP), heard=h2).known


def test_swing_moves_the_off_beat_eighth_to_the_swing_share_of_the_beat():
    assert PlanContext.swing_shift(0, 4, STEP, 0.62) == 0.0
    assert PlanContext.swing_shift(2, 4, STEP, 0.62) == pytest.approx(0.12 * BEAT)
    assert 0 < PlanContext.swing_shift(1, 4, STEP, 0.62) < PlanContext.swing_shift(2, 4, STEP, 0.62)
    assert PlanContext.swing_shift(2, 4, STEP, 0.5) == 0.0


def test_the_key_is_the_listeners_or_guessed_from_the_notes():
    assert PlanContext(heard(RIFF), SR).key == (4, True)
    assert PlanContext(heard(RIFF, key=None), SR).key[0] in (4, 7, 9)
    assert PlanContext(heard([], key=None), SR).key is None


def test_a_straight_players_timing_noise_is_not_played_as_swing():
    from jambox.generate.context import played_swing

    assert played_swing(0.5) == played_swing(0.52) == 0.5
    assert 0.5 < played_swing(0.55) < 0.55
    assert played_swing(0.62) == 0.62 and played_swing(0.667) == 0.667
    assert all(played_swing(a) <= played_swing(b) for a, b in zip([0.5, 0.53, 0.55, 0.57, 0.58], [0.53, 0.55, 0.57, 0.58, 0.6]))
