"""Figures for the real-time engine: reaction time, the callback's cost per block, xruns, memory.

- **reaction**: an impulse on the input, and a chain that answers it with a drum hit as soon as it
  can (planned for the stream time it has just heard): the time from the impulse's input frame to
  the hit's first sound in the output, measured in the recorded output (frames, so the device's own
  round trip comes on top). This is the engine's share: ring hand-over, hop, render lead.
- **listener delay** (when the full chain can be built): how long after a bass onset the listener
  reports it (``emitted_at - time``), on the demo riff; the box can react no sooner than this plus
  the engine's reaction.
- **long run**: ``minutes`` of stream through the same code path on the in-memory device, faster than
  real time (the full chain on the looped demo riff where the model is there, the probe chain
  otherwise): callback time per block (p50/p99/max), xruns, late notes, RSS before and after.
- **jack**: the same engine on a real PortAudio stream over JACK's dummy backend at 128 frames, in
  real time: the box's own xruns, the device's (JACK's late cycles, per minute) and callback times as
  a sound card would drive it, on the stream ``jambox run`` uses (the callback in its own audio
  process) and, in the full run, the in-process callback (where it waits for the GIL); each on a
  realtime server (where the machine allows SCHED_FIFO) and a non-realtime one, with the load
  average (late cycles depend on it) and, beside it, the late cycles a do-nothing client sees on the
  same server (``jack_*_reference_xruns_per_minute``: the machine's share, without the box). (The in-memory run's callback times include waiting for the
  GIL while the engine's threads run flat out, faster than real time; the JACK figures are the ones
  a sound card sees.)
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np

log = logging.getLogger(__name__)

SR = 48000


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class _Record:
    def __init__(self):
        self.played, self.joins, self.beats, self.onsets = [], [], [], []


class ProbeChain:
    """The Chain's feed/render interface: answers every input impulse with a drum hit at once.

    The hit is planned for the stream time the chain has just heard, i.e. already due: the performer
    plays it at the first sample not yet rendered (and counts it late, which is the point)."""

    hop_size = 256

    def __init__(self, config, lead: int = 0):
        from jambox.events import Heard
        from jambox.perform.performer import Performer

        self.sample_rate = config.audio.sample_rate
        self.performer = Performer(self.sample_rate, config.performer)
        self.heard = Heard(self.sample_rate)
        self.record = _Record()
        self.now = 0
        self.lead = lead
        self._armed = True

    def feed(self, hop):
        from jambox.events import DRUM_CHANNEL, PlayedNote

        notes = []
        loud = np.flatnonzero(np.abs(hop) > 0.5)
        if len(loud) and self._armed:
            t = self.now + int(loud[0]) + self.lead
            notes = [PlayedNote("drums", t, 2400, 37, 120, DRUM_CHANNEL, self.now)]
            self.performer.schedule(notes)
            self.record.played.extend(notes)
        self._armed = not len(loud)
        self.now += len(hop)
        return notes

    def render(self, out, t):
        self.performer.render(out, t)

    def close(self):
        self.performer.close()


def _config(**audio):
    from jambox.config.load import load_config

    return load_config(search=[]).with_overrides({"performer": {"reverb": False},
                                                  "audio": {"dry_level": 0.0, **audio}})


def reaction(quick: bool) -> dict:
    from jambox.audio.stream import MemoryStream
    from jambox.engine.live import LiveEngine

    figures = {}
    for block in ((128,) if quick else (64, 128, 256)):
        cfg = _config(block_size=block)
        n = 8 if quick else 30
        times = [SR // 2 + k * SR + 37 * k for k in range(n)]  # a second apart: each hit has died away
        src = np.zeros(times[-1] + SR, np.float32)
        src[times] = 0.9
        chain = ProbeChain(cfg)
        stream = MemoryStream(src, SR, block)
        engine = LiveEngine(cfg, chain, stream)
        try:
            engine.run()
        finally:
            chain.close()
        rec = np.abs(stream.recorded[:, 0])
        delays = []
        for t in times:
            idx = np.flatnonzero(rec[t:t + SR // 4] > 0.02)
            if len(idx):
                delays.append(idx[0] / SR * 1000)
        figures[f"reaction_ms_block{block}_p50"] = round(float(np.median(delays)), 2) if delays else None
        figures[f"reaction_ms_block{block}_max"] = round(float(np.max(delays)), 2) if delays else None
    figures["reaction_note"] = ("input impulse to the answering hit's first sound in the output, "
                                "in stream frames (add the interface's round trip)")
    return figures


def _full_chain(config):
    """The real Chain on the shipped model, or None (with the reason) where a piece is missing."""
    try:
        from jambox.engine.chain import Chain
        from jambox.generate import load_model

        model = load_model(config.generator.model or None, backend=config.generator.backend)
        return Chain(config, model=model, memory=None, seed=1), None
    except Exception as e:  # noqa: BLE001 - the bench reports what it could not measure
        return None, f"{type(e).__name__}: {e}"


def long_run(quick: bool) -> dict:
    from jambox.audio.stream import MemoryStream
    from jambox.engine.live import LiveEngine

    minutes = 1.0 if quick else 10.0
    cfg = _config(block_size=128, dry_level=1.0)
    chain, why = _full_chain(cfg)
    figures: dict = {"long_run_minutes": minutes}
    if chain is not None:
        from jambox.audio.files import load_bass
        from jambox.demo_riff import AUDIO_FILE

        riff = load_bass(str(AUDIO_FILE), SR)
        reps = int(np.ceil(minutes * 60 * SR / len(riff)))
        src = np.tile(riff, reps)[: int(minutes * 60 * SR)]
        figures["long_run_chain"] = "full chain, demo riff looped"
    else:
        times = np.arange(SR // 2, int(minutes * 60 * SR) - SR, SR // 2)
        src = np.zeros(int(minutes * 60 * SR), np.float32)
        src[times] = 0.9
        chain = ProbeChain(cfg, lead=SR // 10)
        figures["long_run_chain"] = f"probe chain (full chain unavailable: {why})"
    figures["rss_mb_start"] = rss_mb()
    stream = MemoryStream(src, SR, 128, record=False)
    engine = LiveEngine(cfg, chain, stream)
    t0 = time.perf_counter()
    try:
        engine.run()
        wall = time.perf_counter() - t0
        figures["rss_mb_end"] = rss_mb()  # before the chain (and its soundfont) is freed
    finally:
        chain.close()
    c = engine.counters()
    figures["long_run_speed_x_realtime"] = round(c["stream_seconds"] / wall, 1)
    for key in ("xruns", "underruns", "input_overruns", "callback_us_p50", "callback_us_p99", "callback_us_max",
                "performer_notes_started", "performer_late_notes", "render_lead_min_samples"):
        figures[f"long_run_{key}"] = c.get(key)
    onsets = getattr(engine.chain.record, "onsets", [])
    delays = [(o.emitted_at - o.time) / SR * 1000 for o in onsets]
    if delays:
        figures["listener_onset_delay_ms_p50"] = round(float(np.median(delays)), 1)
        figures["listener_onset_delay_ms_max"] = round(float(np.max(delays)), 1)
    return figures


def jack_run(quick: bool) -> dict:
    """Real time on PortAudio over JACK's dummy backend (128 frames), on the stream ``jambox run`` uses
    (the callback in its own audio process where the system allows), on a realtime server (``jackd
    -R``, where this machine allows SCHED_FIFO) and a non-realtime one; without ``quick``, also the
    in-process callback for comparison. Keys: ``jack_{rt,nonrt}_{run,in_process}_*``."""
    import shutil

    if shutil.which("jackd") is None:
        return {"jack": "jackd not installed (Debian's jackd2)"}
    from jambox.audio.jackd import realtime_allowed
    from jambox.audio.process_stream import run_stream_class
    from jambox.audio.stream import SoundDeviceStream

    seconds = 5.0 if quick else 30.0
    cfg = _config(block_size=128)
    run_class = run_stream_class(cfg.audio)
    figures: dict = {"jack_seconds_each": seconds, "jack_run_stream": run_class.kind,
                     "jack_realtime_allowed": realtime_allowed()}
    kinds = [("run", run_class)]
    if not quick and run_class is not SoundDeviceStream:
        kinds.append(("in_process", SoundDeviceStream))
    for realtime in ([True] if figures["jack_realtime_allowed"] else []) + [False]:
        figures.update(_jack_server_run(cfg, realtime, kinds, seconds))
    return figures


def _jack_server_run(cfg, realtime: bool, kinds, seconds: float) -> dict:
    """One JACK server (realtime or not), each stream kind on it in turn for ``seconds``."""
    import re
    import tempfile
    from pathlib import Path

    from jambox.audio import devices
    from jambox.audio.jackd import JackServer
    from jambox.engine.live import LiveEngine

    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="jambox-bench-jack-") as tmp:
        log_path = Path(tmp) / "jackd.log"
        server = JackServer(SR, 128, realtime=realtime, log_path=log_path).start()
        tag = "rt" if server.realtime else "nonrt"
        with server.portaudio():
            dev = devices.resolve("system, JACK", "input")
            for name, stream_class in kinds:
                chain, why = _full_chain(cfg)  # the logic thread busy in aubio and the model, as live
                if chain is None:
                    chain = ProbeChain(cfg, lead=SR // 10)
                key = f"jack_{tag}_{name}"
                figures[f"{key}_chain"] = "full chain" if why is None else "probe chain"
                stream = stream_class(dev, dev, SR, 128, 1, 2)
                engine = LiveEngine(cfg, chain, stream, realtime=True)  # as jambox run does
                load = os.getloadavg()[0]
                driver_before = len(re.findall("XRun", log_path.read_text(errors="replace")))
                try:
                    engine.start()
                    time.sleep(seconds)
                finally:
                    engine.stop()
                    chain.close()
                c = engine.counters()
                minutes = max(c["stream_seconds"], 1e-9) / 60
                figures.update({
                    f"{key}_box_xruns": c["underruns"] + c["input_overruns"],  # the box's own: no accompaniment ready, input ring full
                    f"{key}_device_xruns_per_minute": round(c["device_xruns"] / minutes, 1),
                    f"{key}_server_late_cycles": len(re.findall("XRun", log_path.read_text(errors="replace")))
                    - driver_before,  # jackd's own count: the same late cycles, seen by the server
                    f"{key}_resyncs": c["device_resyncs"],  # 0 on JACK: its frames never skip
                    f"{key}_slip_frames": c["device_slip_frames"],  # JACK's wall clock past its frames at late cycles
                    f"{key}_callback_us_p50": c["callback_us_p50"],
                    f"{key}_callback_us_p99": c["callback_us_p99"],
                    f"{key}_callback_us_max": c["callback_us_max"],
                    f"{key}_load_1min": round(load, 2),
                })
            figures["jack_latency_compensation_samples"] = c["latency_compensation_samples"]
            figures[f"jack_{tag}_reference_xruns_per_minute"] = _reference_client(server, seconds)
    return figures  # (leaving server.portaudio() stopped the server)


def _reference_client(server, seconds: float):
    """Late cycles a do-nothing client (ports on the dummy driver's, silence out) sees on ``server`` in
    ``seconds``, per minute: what the machine causes without the box (JACK reports every late cycle
    to every client). None without the JACK-Client package (a test dependency)."""
    try:
        import jack
    except (ImportError, OSError):
        return None
    client = jack.Client("jambox-bench-reference", servername=server.name, no_start_server=True)
    xruns = [0]
    try:
        inp = client.inports.register("in")
        outs = [client.outports.register(f"out_{i}") for i in (1, 2)]

        def process(frames):
            for port in outs:
                port.get_array().fill(0)

        client.set_process_callback(process)
        client.set_xrun_callback(lambda delay: xruns.__setitem__(0, xruns[0] + 1))
        client.activate()
        client.connect("system:capture_1", inp)
        for port, name in zip(outs, ("system:playback_1", "system:playback_2")):
            client.connect(port, name)
        time.sleep(seconds)
        client.deactivate()
    finally:
        client.close()
    return round(xruns[0] / (seconds / 60), 1)


def run(quick: bool) -> dict:
    figures: dict = {}
    for part in (reaction, long_run, jack_run):
        try:
            figures.update(part(quick))
        except Exception as e:  # noqa: BLE001 - one missing piece must not hide the other figures
            log.exception("bench engine: %s", part.__name__)
            figures[f"{part.__name__}_error"] = f"{type(e).__name__}: {e}"
    return figures
