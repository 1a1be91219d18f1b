from jambox.engine.join import BARS_WITHOUT_LOOP, JoinPolicy, next_downbeat
from jambox.events import Heard

SR = 48000
BEAT = 24000.0  # 120 bpm
BAR = 4 * BEAT


def heard(**kw) -> Heard:
    base = dict(sample_rate=SR, tempo_bpm=120.0, beat_period=BEAT, beat_phase=0, downbeat=1000, meter=(4, 4))
    base.update(kw)
    return Heard(**base)


def test_next_downbeat_is_on_the_bar_grid():
    h = heard()
    assert next_downbeat(h, 1000) == 1000
    assert next_downbeat(h, 1001) == 1000 + int(BAR)
    assert next_downbeat(h, 5 * BAR) == 1000 + int(5 * BAR) + 0


def test_waits_for_tempo_then_one_loop_then_comes_in_on_a_downbeat():
    p = JoinPolicy(join_after_loops=1, stop_after_silent_bars=2)
    assert not p.update(Heard(sample_rate=SR), 10_000).playing
    h = heard(loop_bars=2, loop_start=1000, last_onset=int(1.5 * BAR))
    assert not p.update(h, int(1.5 * BAR)).playing  # one loop is two bars: not heard yet
    d = p.update(heard(loop_bars=2, loop_start=1000, last_onset=int(2 * BAR)), int(2 * BAR) + 1001)
    assert d.playing and d.changed == "joined"
    assert d.join_at == 1000 + int(3 * BAR)  # the next downbeat after now


def test_without_a_loop_it_joins_after_some_bars_of_confident_tempo():
    p = JoinPolicy(join_after_loops=1)
    t0 = 50_000
    assert not p.update(heard(last_onset=t0), t0).playing
    assert not p.update(heard(last_onset=t0 + int(BAR)), t0 + int(BAR)).playing
    t = t0 + int(BARS_WITHOUT_LOOP * BAR)
    assert p.update(heard(last_onset=t), t).playing


def test_join_now_and_zero_loops_come_in_at_once():
    assert JoinPolicy(join_after_loops=4).update(heard(last_onset=10), 100, join_now=True).playing
    assert JoinPolicy(join_after_loops=0).update(heard(last_onset=10), 100).playing


def test_stops_after_silent_bars_and_comes_back():
    p = JoinPolicy(join_after_loops=0, stop_after_silent_bars=2)
    assert p.update(heard(last_onset=100), 200).playing
    assert p.update(heard(last_onset=100), 100 + int(1.9 * BAR)).playing
    d = p.update(heard(last_onset=100), 100 + int(2.1 * BAR))
    assert not d.playing and d.changed == "stopped"
    t = int(10 * BAR)
    assert not p.update(heard(last_onset=100), t).playing  # still silent
    assert p.update(heard(last_onset=t), t + 10).changed == "joined"


def test_the_foot_switch_stops_it():
    p = JoinPolicy(join_after_loops=0)
    assert p.update(heard(last_onset=100), 200).playing
    assert p.update(heard(last_onset=300), 400, enabled=False).changed == "stopped"
