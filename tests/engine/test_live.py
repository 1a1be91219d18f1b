"""The live engine on the in-memory device: one clock from input to output, threads, counters, failures.

The chain here is a click track with known truth: every loud input sample makes it plan one drum hit
``LEAD`` samples later, through the real Performer and FluidSynth. The full Chain on the demo riff is
exercised by tests/commands/test_run.py over JACK.
"""

import json
import threading
import time

import numpy as np
import pytest

from jambox.audio.stream import MemoryStream
from jambox.config.load import load_config
from jambox.engine.live import LiveEngine
from jambox.events import DRUM_CHANNEL, Heard, PlayedNote
from jambox.perform.performer import FLUID_BLOCK, Performer

SR = 48000
LEAD = 4800  # the click chain plans each hit 100 ms after the impulse it heard


class Record:
    def __init__(self):
        self.played, self.joins, self.beats = [], [], []


class ClickChain:
    """feed/render like jambox.engine.chain.Chain, planning a side-stick hit after each impulse."""

    hop_size = 256

    def __init__(self, cfg, *, feed_delay_s=0.0, render_delay_s=0.0, fail_at=None):
        self.sample_rate = SR
        self.now = 0
        self.performer = Performer(SR, cfg.performer)
        self.heard = Heard(SR)
        self.record = Record()
        self.feed_delay_s, self.render_delay_s, self.fail_at = feed_delay_s, render_delay_s, fail_at
        self.renders = 0

    def feed(self, hop):
        if self.fail_at is not None and self.now >= self.fail_at:
            raise RuntimeError("the chain broke")
        if self.feed_delay_s:
            time.sleep(self.feed_delay_s)
        notes = [PlayedNote("drums", self.now + int(i) + LEAD, 2400, 37, 120, DRUM_CHANNEL, self.now)
                 for i in np.flatnonzero(np.abs(hop) > 0.5)]
        if notes:
            self.performer.schedule(notes)
            self.record.played.extend(notes)
        self.now += len(hop)
        return notes

    def render(self, out, t):
        self.renders += 1
        if self.render_delay_s:
            time.sleep(self.render_delay_s)
        self.performer.render(out, t)

    def close(self):
        self.performer.close()


@pytest.fixture(scope="module")
def cfg():
    return load_config(search=[]).with_overrides({"performer": {"reverb": False}, "audio": {"dry_level": 0.0}})


@pytest.fixture(scope="module")
def lead_in(cfg):
    """Samples from a side-stick's note-on to its first sound (the sample's own attack)."""
    p = Performer(SR, cfg.performer)
    p.schedule([PlayedNote("drums", 0, 2400, 37, 120, DRUM_CHANNEL, 0)])
    out = np.zeros((4096, 2), np.float32)
    p.render(out, 0)
    p.close()
    return int(np.flatnonzero(np.abs(out[:, 0]) > THRESHOLD)[0])


def impulses(seconds, times):
    src = np.zeros(int(seconds * SR), np.float32)
    for t in times:
        src[t] = 0.9
    return src


THRESHOLD = 1e-3  # well above the previous hit's tail a second later, well below the attack


def first_sound(x, lo, hi):
    idx = np.flatnonzero(np.abs(x[lo:hi]) > THRESHOLD)
    return lo + int(idx[0]) if len(idx) else None


def run_engine(cfg, chain, stream, duration=None):
    engine = LiveEngine(cfg, chain, stream)
    try:
        reason = engine.run(duration)
    finally:
        chain.close()
    return engine, reason


@pytest.mark.parametrize("block", [64, 128, 256])
def test_hits_sound_on_their_planned_stream_sample(cfg, lead_in, block):
    times = [SR + 123, 2 * SR + 7, 3 * SR + 4001, 4 * SR + 250]
    latency = (0.0025, 0.004)  # what the device reports: 120 + 192 samples
    stream = MemoryStream(impulses(5, times), SR, block, latency=latency)
    engine, reason = run_engine(cfg, ClickChain(cfg), stream)
    assert reason == "input ended"
    assert engine.offset == 312
    rec = stream.recorded[:, 0]
    played = engine.chain.record.played
    assert [n.time for n in played] == [t + LEAD for t in times]
    for n in played:
        frame = n.time - engine.offset  # the output frame that leaves the converter at stream time n.time
        got = first_sound(rec, frame - 500, frame + 2000)
        assert got is not None
        assert abs(got - (frame + lead_in)) <= FLUID_BLOCK // 2, (n.time, got - frame - lead_in)
    c = engine.counters()
    assert c["xruns"] == 0 and c["performer_late_notes"] == 0
    assert c["render_lead_min_samples"] >= engine.ahead - block + engine.offset - engine.hop


def test_after_the_device_loses_a_block_hits_still_sound_on_their_device_sample(cfg, lead_in):
    """An xrun that loses frames (a sound card's overrun) must not shift the stream clock: the impulses
    after it are heard, planned and played on the device's own frames, as if nothing was lost."""
    block = 128
    times = [SR + 123, 2 * SR + 7, 3 * SR + 4001]
    drops = (SR // 2, 2 * SR + SR // 2)  # two lost blocks, each before an impulse
    stream = MemoryStream(impulses(4, times), SR, block, drop_at=drops)
    engine, reason = run_engine(cfg, ClickChain(cfg), stream)
    assert reason == "input ended"
    assert stream.dropped_blocks == 2
    played = engine.chain.record.played
    assert [n.time for n in played] == [t + LEAD for t in times]  # heard at their device frames
    rec = stream.recorded[:, 0]
    for n in played:
        frame = n.time - engine.offset
        got = first_sound(rec, frame - 500, frame + 2000)
        assert got is not None and abs(got - (frame + lead_in)) <= FLUID_BLOCK // 2, (n.time, got)
    c = engine.counters()
    assert (c["device_resyncs"], c["device_dropped_frames"], c["device_xruns"]) == (2, 2 * block, 2)
    assert c["blocks"] * block + c["device_dropped_frames"] == c["stream_seconds"] * SR == stream.position
    assert c["underruns"] == 0 and c["performer_late_notes"] == 0


def test_the_dry_bass_is_in_the_output_in_the_same_frame(cfg):
    dry = cfg.with_overrides({"audio": {"dry_level": 0.5, "input_gain_db": 6.0}})
    rng = np.random.default_rng(1)
    src = (rng.uniform(-0.2, 0.2, SR)).astype(np.float32)  # below the click chain's threshold
    stream = MemoryStream(src, SR, 128)
    engine, _ = run_engine(dry, ClickChain(dry), stream)
    np.testing.assert_allclose(stream.recorded[:, 0], src * 0.5 * 10 ** (6 / 20), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(stream.recorded[:, 1], stream.recorded[:, 0])


def test_many_minutes_faster_than_real_time_without_xruns(cfg):
    seconds = 60
    times = list(range(SR // 2, seconds * SR - SR, SR // 2))
    stream = MemoryStream(impulses(seconds, times), SR, 128, record=False)
    t0 = time.perf_counter()
    engine, _ = run_engine(cfg, ClickChain(cfg), stream)
    took = time.perf_counter() - t0
    c = engine.counters()
    assert c["stream_seconds"] == pytest.approx(seconds, abs=0.01)
    assert c["xruns"] == 0 and c["performer_late_notes"] == 0
    assert c["performer_notes_started"] == len(times)
    assert took < seconds  # the point of the in-memory device: the bench can run 10 minutes quickly


def test_a_renderer_too_slow_for_real_time_underruns_and_the_stream_goes_on(cfg):
    block = 128  # 2.7 ms per block; the chain takes 6 ms per render
    stream = MemoryStream(impulses(1.0, []), SR, block, realtime=True)
    engine, reason = run_engine(cfg, ClickChain(cfg, render_delay_s=0.006), stream)
    c = engine.counters()
    assert reason == "input ended"
    assert c["blocks"] == SR // block
    assert c["underruns"] > 0 and c["xruns"] >= c["underruns"]
    assert c["stale_output_frames"] > 0 or c["underrun_frames"] > 0


def test_notes_planned_too_late_are_played_and_counted(cfg):
    """A logic thread slower than real time plans hits for samples the renderer has passed."""
    times = [int(0.3 * SR)]
    stream = MemoryStream(impulses(1.0, times), SR, 128, realtime=True)

    class Slow(ClickChain):
        def feed(self, hop):
            if np.abs(hop).max() > 0.5:
                time.sleep(0.2)  # 200 ms lost before planning: the hit, 100 ms on, is overdue
            return super().feed(hop)

    chain = Slow(cfg)
    engine, _ = run_engine(cfg, chain, stream)
    c = engine.counters()
    assert c["performer_notes_started"] == 1
    assert c["performer_late_notes"] == 1 and c["performer_late_samples_max"] > 0
    assert chain.record.played[0].time == times[0] + LEAD


def test_a_device_unplugged_mid_run_stops_the_engine_with_the_reason(cfg):
    stream = MemoryStream(impulses(3.0, []), SR, 128, fail_at=SR)
    engine, reason = run_engine(cfg, ClickChain(cfg), stream)
    assert engine.device_lost
    assert reason.startswith("device lost") and "unplugged" in reason
    assert stream.position == SR


def test_a_failing_chain_stops_everything_and_raises(cfg):
    stream = MemoryStream(impulses(3.0, []), SR, 128)
    engine = LiveEngine(cfg, ClickChain(cfg, fail_at=SR // 2), stream)
    with pytest.raises(RuntimeError, match="the chain broke"):
        engine.run()
    assert "jambox-logic failed" in engine.stop_reason
    assert not [t.name for t in threading.enumerate() if t.name.startswith("jambox-") and t.is_alive()]
    engine.chain.close()


def test_duration_stops_on_stream_time_and_the_plan_is_written(cfg, tmp_path):
    times = [SR // 4 + 11]
    stream = MemoryStream(impulses(10.0, times), SR, 128, latency=(0.001, 0.001))
    engine = LiveEngine(cfg, ClickChain(cfg), stream)
    try:
        engine.start()
        engine.wait(2.0)
    finally:
        engine.stop()
        engine.stop()  # twice is harmless
    engine.write_plan(tmp_path / "plan.json")
    engine.chain.close()
    assert engine.stop_reason == "ran for 2 s"
    assert 2 * SR <= engine.chain.now < 2 * SR + 4096
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["first_input_sample"] == times[0]
    assert plan["latency_compensation"] == 96
    assert plan["sample_rate"] == SR and plan["block_size"] == 128
    assert [n["time"] for n in plan["notes"]] == [times[0] + LEAD]
    assert plan["counters"]["xruns"] == 0


def test_the_full_chain_live_plans_exactly_what_it_plans_offline(cfg):
    """The same hops in the same order: live (in-memory device, threads) and offline agree note for note."""
    import soundfile as sf

    from jambox.demo_riff import AUDIO_FILE
    from jambox.engine.chain import Chain
    from jambox.engine.offline import run_offline
    from jambox.generate import load_model

    full = cfg.with_overrides({"audio": {"dry_level": 1.0}})
    riff, sr = sf.read(str(AUDIO_FILE), dtype="float32")
    riff = riff[: 16 * SR]  # far enough past the join (about 10 s)
    model = load_model(full.generator.model or None, backend=full.generator.backend)

    offline = Chain(full, model=model, memory=None, seed=5)
    try:
        run_offline(offline, riff, tail_s=0.0)
    finally:
        offline.close()
    live = Chain(full, model=model, memory=None, seed=5)
    stream = MemoryStream(riff, SR, 128, record=False)
    engine = LiveEngine(full, live, stream)
    try:
        engine.run()
    finally:
        live.close()
    n = min(len(live.record.played), len(offline.record.played))
    assert n >= 20
    assert live.record.played[:n] == offline.record.played[:n]
    assert engine.counters()["performer_late_notes"] == 0
