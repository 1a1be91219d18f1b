"""The listener as the chain uses it: one hop in, events out, a Heard snapshot."""

import numpy as np
import pytest

from jambox.audio.files import load_bass
from jambox.config import load_config
from jambox.demo_riff import AUDIO_FILE, BPM, KEY, LOOP_BARS, METER
from jambox.errors import ValueRangeError
from jambox.events import PITCH_CLASSES, Beat, Heard, Note, Onset
from jambox.listen import Listener
from jambox.listen.testclips import clicks, hum_only

SR = 48000


@pytest.fixture(scope="module")
def cfg():
    return load_config(None).listener


def feed(listener, x, finish=True):
    hop = listener.hop_size
    x = np.concatenate([x, np.zeros((-len(x)) % hop, np.float32)])
    events = []
    for i in range(0, len(x), hop):
        events += listener.process(x[i:i + hop])
        listener.heard()
    return events + (listener.finish() if finish else [])


@pytest.fixture(scope="module")
def demo(cfg):
    listener = Listener(SR, cfg)
    events = feed(listener, load_bass(AUDIO_FILE, SR))
    return listener, events


def test_the_demo_riff_is_heard_right(demo):
    listener, _ = demo
    h = listener.heard()
    assert abs(h.tempo_bpm - BPM) < 2.0
    assert h.meter == METER
    assert (PITCH_CLASSES[h.key_tonic], h.key_mode) == KEY
    assert h.loop_bars == LOOP_BARS


def test_the_demo_grid_is_fully_filled_and_consistent(demo):
    listener, _ = demo
    h = listener.heard()
    assert abs(h.beat_period - SR * 60 / BPM) < SR * 60 / BPM * 0.02
    assert h.downbeat is not None and h.beat_phase is not None and h.loop_start is not None
    # the downbeat lies on the beat grid
    k = (h.downbeat - h.beat_phase) / h.beat_period
    assert abs(k - round(k)) < 0.05
    assert 0.0 < h.tempo_confidence <= 1.0 and h.last_onset is not None
    assert len(h.notes) >= 15  # at least two loops of the 15-note riff


def test_heard_notes_hold_the_last_two_loops(demo):
    listener, events = demo
    h = listener.heard()
    two_loops = 2 * h.loop_bars * h.meter[0] * h.beat_period
    heard = {n.onset for n in h.notes}
    recent = {e.onset for e in events if isinstance(e, Note) and e.onset >= listener.now - two_loops}
    assert recent and recent <= heard


def test_the_demo_downbeats_fall_on_the_bar_lines(demo):
    _, events = demo
    bar = 4 * 60.0 / BPM
    late = [b.time / SR for b in events if isinstance(b, Beat) and b.position == 0 and b.time > 10 * SR]
    assert len(late) >= 6
    off = [abs((t / bar) - round(t / bar)) * bar for t in late]
    assert np.median(off) < 0.05


def test_events_are_causal(demo):
    _, events = demo
    for ev in events:
        if isinstance(ev, Onset):
            assert ev.emitted_at >= ev.time
        elif isinstance(ev, Note):
            assert ev.emitted_at >= ev.onset and (ev.offset is None or ev.offset > ev.onset)
        elif isinstance(ev, Beat):
            assert ev.emitted_at >= ev.time


def test_no_look_ahead_a_prefix_hears_the_same(cfg):
    """What was emitted by time T does not depend on the audio after T."""
    x = load_bass(AUDIO_FILE, SR)[: 10 * SR]
    whole = feed(Listener(SR, cfg), x, finish=False)
    cut = 6 * SR
    part = feed(Listener(SR, cfg), x[:cut], finish=False)
    def decided_by_cut(events):  # a Note's final version (with offset) keeps its pitch time: skip those
        return [e for e in events if e.emitted_at <= cut - 256 and getattr(e, "offset", None) is None]

    before = decided_by_cut(whole)
    assert before == decided_by_cut(part)
    assert len(before) > 20


def test_pitch_follows_the_onset_within_tens_of_ms(demo):
    _, events = demo
    onsets = {e.time: e.emitted_at for e in events if isinstance(e, Onset)}
    first = {}
    for e in events:
        if isinstance(e, Note) and e.onset not in first:
            first[e.onset] = e.emitted_at
    lag = [(first[t] - t) / SR for t in first]
    assert np.median(lag) < 0.08
    assert np.median([(onsets[t] - t) / SR for t in onsets]) < 0.035


@pytest.mark.parametrize("signal", [
    np.zeros(4 * SR, np.float32),
    hum_only(4.0, SR, 50.0),
    hum_only(4.0, SR, 60.0, level=0.1),
    clicks(4.0, SR),
    np.full(4 * SR, 0.3, np.float32),  # DC alone
], ids=["silence", "hum50", "hum60-loud", "clicks", "dc"])
def test_no_phantom_notes(cfg, signal):
    events = feed(Listener(SR, cfg), signal)
    assert not [e for e in events if isinstance(e, Note)]


def test_a_burst_of_nan_does_not_deafen_the_listener(cfg):
    x = load_bass(AUDIO_FILE, SR)[: 8 * SR].copy()
    x[SR:SR + 1000] = np.nan
    x[SR + 1000:SR + 1100] = np.inf
    events = feed(Listener(SR, cfg), x)
    assert len({e.onset for e in events if isinstance(e, Note) and e.onset > 3 * SR}) >= 8


def test_a_hop_of_the_wrong_size_is_refused(cfg):
    listener = Listener(SR, cfg)
    with pytest.raises(ValueRangeError, match=str(listener.hop_size)):
        listener.process(np.zeros(100, np.float32))


def test_heard_is_a_cached_immutable_snapshot(cfg):
    listener = Listener(SR, cfg)
    h = listener.heard()
    assert isinstance(h, Heard) and h.tempo_bpm is None and h.sample_rate == SR
    listener.process(np.zeros(listener.hop_size, np.float32))
    assert listener.heard() is listener.heard()


@pytest.mark.parametrize("rate,hop", [(44100, 256), (96000, 256), (48000, 128), (48000, 512)])
def test_other_stream_rates_and_hops(cfg, rate, hop):
    import types

    x = load_bass(AUDIO_FILE, rate)[: 12 * rate]
    listener = Listener(rate, types.SimpleNamespace(**{**vars(cfg), "hop_size": hop}))
    assert listener.hop_size == hop
    feed(listener, x)
    h = listener.heard()
    assert abs(h.tempo_bpm - BPM) < 2.0


@pytest.mark.parametrize("rest", [
    np.zeros(1 * SR, np.float32),
    np.zeros(5 * SR, np.float32),
    hum_only(5.0, SR, 60.0),
], ids=["silence-1s", "silence-5s", "hum60-5s"])
def test_a_rest_after_the_riff_keeps_tempo_grid_meter_and_loop(cfg, rest):
    """The player stops: the box remembers the riff, and the band re-joins on the same grid."""
    listener = Listener(SR, cfg)
    feed(listener, load_bass(AUDIO_FILE, SR), finish=False)
    before = listener.heard()
    feed(listener, rest, finish=False)
    after = listener.heard()
    assert abs(after.tempo_bpm - BPM) < 1.0
    assert after.loop_bars == before.loop_bars == LOOP_BARS
    assert after.meter == before.meter == METER
    assert after.loop_start == before.loop_start
    assert (after.key_tonic, after.key_mode) == (before.key_tonic, before.key_mode)
    # the grid ran on at the same period and phase: the bar lines still fall where they fell
    assert abs(after.beat_period - before.beat_period) < 1e-6 * before.beat_period
    beats = (after.beat_phase - before.beat_phase) / before.beat_period
    assert beats >= 1 and abs(beats - round(beats)) < 0.01
    bars = (after.downbeat - before.downbeat) / (before.meter[0] * before.beat_period)
    assert abs(bars - round(bars)) < 0.01
