"""Which sound card: devices by index or name substring, ``--list-devices``, and PortAudio's errors in words.

Device names are matched the way sounddevice's own examples do it (an index, or a case-insensitive
substring of the name, optionally followed by the host API: ``"hifiberry"``, ``"system, JACK"``).
When several devices match, a JACK device wins if a JACK server is running (that is where a
studio laptop routes audio), otherwise the first match with the needed channels.

PortAudio enumerates devices once, when it starts; :func:`refresh` restarts it so a card plugged in
later, or a JACK server started later, is seen (only while no stream is open).
"""

from __future__ import annotations

import logging

from jambox.errors import AudioDeviceError, did_you_mean

log = logging.getLogger(__name__)

KINDS = ("input", "output")


def _sd():
    global _released
    try:
        import sounddevice as sd
    except OSError as e:  # the PortAudio library itself is missing
        raise AudioDeviceError(f"PortAudio is not available ({e}); install Debian's libportaudio2") from None
    if _released:
        _released = False
        sd._initialize()
    return sd


_released = False  # this process shut its PortAudio down while its audio process streams (see release)


def release() -> None:
    """Shut this process's PortAudio down while another process (the audio process) streams.

    On JACK, PortAudio's host API keeps an *active* JACK client with a process callback from the
    moment it initialises, stream or no stream; a synchronous server waits for it every cycle, so a
    second box client would run on every period (and be scheduled with this process's busy threads).
    The next call that needs PortAudio here initialises it again (:func:`reacquire` or any query)."""
    global _released
    if _released or _abandoned:
        return
    try:
        import sounddevice as sd
    except OSError:
        return
    sd._terminate()
    _released = True


def released() -> bool:
    """True while this process's PortAudio is shut down for its audio process (see :func:`release`)."""
    return _released


def reacquire() -> None:
    """PortAudio initialised again in this process after :func:`release` (no-op otherwise)."""
    if _released and not _abandoned:
        _sd()


_abandoned = False  # PortAudio's JACK host API lost its server: it cannot be shut down or re-scanned


def refresh() -> None:
    """Re-scan the devices (PortAudio only looks at start-up). Never while a stream is open.

    Raises :class:`AudioDeviceError` after :func:`abandon_portaudio`: then only a new process can
    see devices again (``jambox run`` re-executes itself)."""
    if _abandoned:
        raise AudioDeviceError("the JACK server this process was connected to went away; "
                               "PortAudio cannot reconnect to a new one without restarting")
    sd = _sd()
    sd._terminate()  # the documented way to re-scan: sounddevice's FAQ
    sd._initialize()


def abandon_portaudio() -> None:
    """After the JACK server died under an open PortAudio: never shut PortAudio down in this process.

    Debian's PortAudio asserts that its JACK client deactivates cleanly in ``Pa_Terminate``, which
    fails once the server is gone and aborts the whole process (SIGABRT) at exit. Skipping
    sounddevice's exit handler lets the process exit with its own status instead.
    """
    import atexit

    global _abandoned
    if _abandoned or _released:
        # Released: this process's PortAudio was shut down cleanly before the server went (the audio
        # process streamed), so there is nothing to abandon, and it may scan again. Initialising it
        # here (to unregister its exit handler) would connect a new JACK client to whatever server
        # answers next: an active client of a process about to wait, or to re-exec, that a
        # synchronous server then waits on every cycle (5 s each), which is what kept the box from
        # coming back after the server did.
        return
    _abandoned = True
    sd = _sd()
    atexit.unregister(sd._exit_handler)


def abandoned() -> bool:
    """True after :func:`abandon_portaudio`: only a new process sees devices again."""
    return _abandoned


def is_jack(device: int | None, kind: str) -> bool:
    """Whether ``device`` (None: the default ``kind`` device) belongs to PortAudio's JACK host API."""
    sd = _sd()
    try:
        d = sd.query_devices(device) if device is not None else sd.query_devices(kind=kind)
        return "jack" in sd.query_hostapis(d["hostapi"])["name"].lower()
    except (sd.PortAudioError, ValueError, TypeError):
        return False


def devices() -> list[dict]:
    """Every device PortAudio knows, each with its ``index`` and ``hostapi_name``."""
    sd = _sd()
    apis = sd.query_hostapis()
    out = []
    for i, d in enumerate(sd.query_devices()):
        d = dict(d)
        d["index"] = i
        d["hostapi_name"] = apis[d["hostapi"]]["name"]
        out.append(d)
    return out


def _channels(d: dict, kind: str) -> int:
    return int(d["max_input_channels"] if kind == "input" else d["max_output_channels"])


def list_devices() -> str:
    """The device list for ``jambox run --list-devices``: index, name, host API, channels, defaults."""
    sd = _sd()
    devs = devices()
    if not devs:
        return ("no audio devices found (PortAudio sees no ALSA cards, and no JACK server is running); "
                "connect an audio interface, or start JACK")
    try:
        default_in, default_out = sd.default.device
    except (TypeError, ValueError):
        default_in = default_out = -1
    lines = []
    for d in devs:
        mark = ">" if d["index"] == default_in else " "
        mark += "<" if d["index"] == default_out else " "
        lines.append(f"{mark} {d['index']:3d} {d['name']}, {d['hostapi_name']} "
                     f"({d['max_input_channels']} in, {d['max_output_channels']} out, "
                     f"{d['default_samplerate']:g} Hz)")
    lines.append("(> default input, < default output; choose with --device / --input-device / --output-device "
                 "NAME or INDEX)")
    return "\n".join(lines)


def resolve(spec: str | int | None, kind: str) -> int | None:
    """The PortAudio index for ``spec`` (an index, a name substring, or empty for the default).

    Raises :class:`AudioDeviceError` naming the spec and the devices there are, when nothing matches
    or the match has no ``kind`` channels. Returns None for the system default.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be 'input' or 'output', not {kind!r}")
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        _check_default(kind)
        return None
    devs = devices()
    with_channels = [d for d in devs if _channels(d, kind) > 0]
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if not 0 <= index < len(devs):
            raise AudioDeviceError(f"no audio device number {index}; there are {len(devs)} "
                                   f"({_names(devs)}); see jambox run --list-devices")
        if _channels(devs[index], kind) == 0:
            raise AudioDeviceError(f"audio device {index} ({devs[index]['name']}) has no {kind} channels; "
                                   f"{kind} devices: {_names(with_channels)}")
        return index
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    matches = [d for d in with_channels
               if all(w in f"{d['name']}, {d['hostapi_name']}".lower() for w in words)]
    if not matches:
        names = [d["name"] for d in with_channels]
        hint = did_you_mean(text, names)
        anywhere = [d for d in devs if all(w in f"{d['name']}, {d['hostapi_name']}".lower() for w in words)]
        if anywhere:
            raise AudioDeviceError(f"audio device {text!r} ({anywhere[0]['name']}) has no {kind} channels; "
                                   f"{kind} devices: {_names(with_channels)}")
        raise AudioDeviceError(f"no {kind} audio device matches {text!r}{hint}; "
                               f"{kind} devices: {_names(with_channels)}")
    jack = [d for d in matches if "jack" in d["hostapi_name"].lower()]
    chosen = (jack or matches)[0]
    if len(matches) > 1:
        log.info("%s device %r matches %d devices; using %d (%s, %s)", kind, text, len(matches),
                 chosen["index"], chosen["name"], chosen["hostapi_name"])
    return chosen["index"]


def _names(devs: list[dict]) -> str:
    if not devs:
        return "none"
    return ", ".join(f"{d['index']} {d['name']!r}" for d in devs[:12]) + (" ..." if len(devs) > 12 else "")


def _check_default(kind: str) -> None:
    sd = _sd()
    try:
        d = sd.query_devices(kind=kind)
    except (sd.PortAudioError, ValueError):
        d = None
    if not d:
        raise AudioDeviceError(f"no default {kind} audio device: PortAudio sees none (no ALSA card, no JACK "
                               f"server); connect an audio interface or name one with --{kind}-device")


def check_settings(device: int | None, kind: str, sample_rate: int, channels: int) -> None:
    """Raise :class:`AudioDeviceError` when the device refuses the rate or channel count."""
    sd = _sd()
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    try:
        check(device=device, samplerate=sample_rate, channels=channels, dtype="float32")
    except (sd.PortAudioError, ValueError) as e:
        raise describe_error(e, device, kind, sample_rate, channels) from None


def describe_error(e: Exception, device: int | None, kind: str, sample_rate: int,
                   channels: int | None = None) -> AudioDeviceError:
    """PortAudio's error as an :class:`AudioDeviceError` that says what to do."""
    msg = str(e)
    low = msg.lower()
    name = _device_name(device, kind)
    if "sample rate" in low or "samplerate" in low:
        return AudioDeviceError(f"{kind} device {name} refuses {sample_rate} Hz ({msg}); set audio.sample_rate "
                                "to a rate it supports (44100, 48000 or 96000) or pick another device")
    if "channel" in low:
        return AudioDeviceError(f"{kind} device {name} cannot open {channels} channels ({msg}); "
                                "check audio.input_channel and the device's channel count")
    if "unavailable" in low or "busy" in low or "-9985" in low:
        return AudioDeviceError(f"{kind} device {name} is busy ({msg}); another program is using it "
                                "(stop it, or route both through JACK)")
    if "no default" in low or "invalid device" in low or "-9996" in low:
        return AudioDeviceError(f"no {kind} audio device {name} ({msg}); see jambox run --list-devices")
    return AudioDeviceError(f"{kind} device {name} failed: {msg}")


def _device_name(device: int | None, kind: str) -> str:
    try:
        sd = _sd()
        if device is None:
            return f"{sd.query_devices(kind=kind)['name']!r}"
        return f"{device} ({sd.query_devices(device)['name']})"
    except Exception:  # noqa: BLE001 - naming the device is best effort inside an error message
        return "(default)" if device is None else str(device)
