"""The performer against FluidSynth itself: notes land on their samples, in any block size, at any level."""

import threading

import numpy as np
import pytest

from jambox.config.load import load_config
from jambox.errors import SoundfontError, ValueRangeError
from jambox.events import DRUM_CHANNEL, PlayedNote
from jambox.perform.fluid import FluidSynth
from jambox.perform.performer import FLUID_BLOCK, RAMP_MS, Performer, level_gain

SR = 48000


@pytest.fixture(scope="module")
def cfg():
    c = load_config(search=[])
    return c.with_overrides({"performer": {"reverb": False}}).performer


def drum(t, pitch=38, vel=110, dur=2400):
    return PlayedNote("drums", t, dur, pitch, vel, DRUM_CHANNEL, planned_at=max(0, t - 4800))


def keys(t, pitch=60, vel=100, dur=9600, channel=0):
    return PlayedNote("keys", t, dur, pitch, vel, channel, planned_at=max(0, t - 4800))


def render_all(perf, total, block, start=0):
    out = np.zeros((total, 2), np.float32)
    for a in range(0, total, block):
        perf.render(out[a:a + block], start + a)
    return out


def first_sound(x, threshold=1e-4):
    idx = np.nonzero(np.abs(x).max(axis=1) > threshold)[0]
    return int(idx[0]) if len(idx) else None


@pytest.fixture
def make(cfg):
    made = []

    def _make(**kw):
        p = Performer(SR, cfg, **kw)
        made.append(p)
        return p

    yield _make
    for p in made:
        p.close()


def test_a_note_matches_fluidsynth_played_directly(make, cfg):
    """Programs, gain and the drum bank are FluidSynth's own: an aligned hit renders identically."""
    perf = make()
    perf.schedule([drum(0, pitch=38, vel=100)])
    got = render_all(perf, 4096, 256)
    ref = FluidSynth(cfg.soundfont, SR, gain=cfg.gain, reverb=False)
    ref.program(DRUM_CHANNEL, cfg.drum_kit, bank=128)
    ref.note_on(DRUM_CHANNEL, 38, 100)
    want = ref.render(4096)
    ref.close()
    assert np.abs(got).max() > 0.01
    np.testing.assert_allclose(got, want, atol=2 / 32768)  # the reference went through int16


@pytest.mark.parametrize("block", [37, 64, 128, 256, 1000])
def test_notes_start_within_half_a_fluidsynth_block_of_their_sample(make, block):
    attack = make()
    attack.schedule([drum(0)])
    lead_in = first_sound(render_all(attack, 2048, 64))  # the sample's own silence before its attack
    rng = np.random.default_rng(block)
    times = sorted(int(t) for t in rng.integers(1000, 40000, size=4))
    for t in times:
        perf = make()
        perf.schedule([drum(t)])
        out = render_all(perf, t + 4096, block)
        onset = first_sound(out)
        assert onset is not None
        assert abs(onset - (t + lead_in)) <= FLUID_BLOCK // 2, (t, onset, lead_in)
        assert perf.stats.timing_error_max <= FLUID_BLOCK // 2
        assert perf.stats.late_notes == 0


def test_output_does_not_depend_on_the_block_size(make):
    notes = [drum(1000), drum(5333, pitch=42), keys(7777), drum(12001, pitch=36), keys(12001, pitch=64)]
    outs = []
    for block in (32, 100, 128, 4096):
        perf = make()
        perf.schedule(notes)
        outs.append(render_all(perf, 20480, block))
    for other in outs[1:]:
        np.testing.assert_allclose(other, outs[0], atol=1e-7)
    assert np.abs(outs[0]).max() > 0.01


def test_render_adds_to_what_is_in_the_buffer(make):
    perf = make()
    perf.schedule([drum(0)])
    out = np.full((2048, 2), 0.25, np.float32)
    perf.render(out, 0)
    alone = make()
    alone.schedule([drum(0)])
    ref = np.zeros((2048, 2), np.float32)
    alone.render(ref, 0)
    np.testing.assert_allclose(out - 0.25, ref, atol=1e-6)


def test_a_note_already_rendered_plays_at_once_and_counts_as_late(make):
    perf = make()
    out = np.zeros((8192, 2), np.float32)
    perf.render(out[:4096], 0)
    perf.schedule([drum(1000)])  # 3096 samples too late
    perf.render(out[4096:], 4096)
    assert first_sound(out[:4096]) is None
    onset = first_sound(out)
    assert 4096 <= onset <= 4096 + FLUID_BLOCK + 64
    assert perf.stats.late_notes == 1
    assert perf.stats.late_samples_max == 3096


def test_stream_starting_later_than_zero(make):
    """The live renderer starts at its first output sample, not at 0."""
    perf = make()
    start = 48000 * 3 + 17
    perf.schedule([drum(start + 2000)])
    out = render_all(perf, 8192, 128, start=start)
    lead = make()
    lead.schedule([drum(0)])
    lead_in = first_sound(render_all(lead, 2048, 64))
    assert abs(first_sound(out) - (2000 + lead_in)) <= FLUID_BLOCK // 2


def test_a_retriggered_pitch_is_not_cut_by_the_earlier_note_off(make):
    perf = make()
    perf.schedule([keys(0, dur=9600), keys(4800, dur=48000)])
    out = render_all(perf, 24000, 256)
    tail = np.abs(out[12000:16000]).max()  # after the first note's off, the second still sounds
    assert tail > 0.01
    assert perf.stats.notes_started == 2


def test_all_notes_off_drops_pending_notes_and_releases_sounding_ones(make):
    perf = make()
    perf.schedule([keys(0, dur=480000), drum(24000)])
    out = np.zeros((96000, 2), np.float32)
    perf.render(out[:4800], 0)
    perf.all_notes_off()
    for a in range(4800, 96000, 256):
        perf.render(out[a:a + 256], a)
    assert np.abs(out[:4800]).max() > 0.01
    assert np.abs(out[80000:]).max() < 1e-3  # the release has died away; the drum never came
    assert perf.stats.notes_started == 1
    assert perf.stats.all_notes_off == 1


def test_level_change_is_a_ramp_without_steps(make):
    ramp = int(RAMP_MS * 1e-3 * SR)
    full, soft = make(), make()
    for p in (full, soft):
        p.schedule([keys(0, dur=48000, pitch=48)])
    a = np.zeros((24000, 2), np.float32)
    b = np.zeros((24000, 2), np.float32)
    for i in range(0, 24000, 128):
        if i == 6016:
            soft.set_level(0.5)
        full.render(a[i:i + 128], i)
        soft.render(b[i:i + 128], i)
    ok = np.abs(a[:, 0]) > 1e-3
    gain = np.where(ok, b[:, 0] / np.where(ok, a[:, 0], 1), np.nan)
    assert np.nanmax(np.abs(gain[:6016] - 1.0)) < 1e-5
    after = gain[6016 + ramp + 1:]
    assert np.nanmax(np.abs(after - level_gain(0.5))) < 1e-4
    during = gain[6016:6016 + ramp]
    steps = np.abs(np.diff(during))  # nan where the note crosses zero: skipped
    assert np.isfinite(steps).sum() > ramp // 2
    assert np.nanmax(steps) < 3 * (1 - level_gain(0.5)) / ramp  # no jump: many small steps
    assert np.nanmin(during) >= level_gain(0.5) - 1e-4


def test_schedule_from_another_thread_while_rendering(make):
    perf = make()
    notes = [drum(2000 + 480 * i, pitch=42, dur=240) for i in range(200)]

    def logic():
        for i in range(0, 200, 5):
            perf.schedule(notes[i:i + 5])

    th = threading.Thread(target=logic)
    out = np.zeros((256, 2), np.float32)
    th.start()
    t = 0
    while t < 2000 + 480 * 200 + 4800:
        out[:] = 0
        perf.render(out, t)
        t += 256
    th.join()
    assert perf.stats.notes_scheduled == 200
    assert perf.stats.notes_started == 200


@pytest.mark.parametrize("note, words", [
    (PlayedNote("bass", 0, 10, 40, 100, 0, 0), "part"),
    (PlayedNote("keys", 0, 10, 128, 100, 0, 0), "pitch must be in range 0..127, not 128"),
    (PlayedNote("keys", 0, 10, 60, 0, 0, 0), "velocity must be in range 1..127, not 0"),
    (PlayedNote("keys", 0, 10, 60, 100, 16, 0), "channel must be in range 0..15"),
    (PlayedNote("drums", 0, 10, 38, 100, 3, 0), "drum notes must be on channel 9"),
    (PlayedNote("keys", -5, 10, 60, 100, 0, 0), "time must be >= 0"),
    (PlayedNote("keys", 0, -1, 60, 100, 0, 0), "duration must be >= 0"),
])
def test_malformed_notes_are_refused_with_the_value_named(make, note, words):
    perf = make()
    with pytest.raises(ValueRangeError, match=words):
        perf.schedule([note])
    assert perf.stats.notes_scheduled == 0


def test_missing_soundfont_is_a_clear_error(cfg, tmp_path):
    bad = load_config(search=[]).with_overrides({"performer": {"soundfont": str(tmp_path / "none.sf2")}}).performer
    with pytest.raises(SoundfontError, match="none.sf2 not found"):
        Performer(SR, bad)


def test_keys_on_the_drum_channel_is_refused():
    bad = load_config(search=[]).with_overrides({"performer": {"midi_keys_channel": 10}}).performer
    with pytest.raises(ValueRangeError, match="must not be 10"):
        Performer(SR, bad)


def test_silence_when_nothing_is_scheduled(make):
    perf = make()
    out = render_all(perf, 48000, 128)
    assert np.abs(out).max() == 0.0


def test_the_keys_channel_volume_sets_the_mix_balance():
    def keys_rms(db):
        c = load_config(search=[]).with_overrides({"performer": {"reverb": False, "keys_volume_db": db}}).performer
        perf = Performer(SR, c)
        try:
            perf.schedule([keys(480, p, 100, SR // 2) for p in (60, 64, 67)])
            out = render_all(perf, SR, 256)
        finally:
            perf.close()
        return 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2)))

    assert abs((keys_rms(0.0) - keys_rms(-9.0)) - 9.0) < 1.5
