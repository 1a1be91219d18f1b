"""Can jambox open the configured audio input and output, with the channel the bass is on?

The device list comes from sounddevice (PortAudio), as ``jambox run`` sees it. Devices are chosen
as ``jambox run`` chooses them: ``audio.input_device`` / ``audio.output_device`` as an index or a
name substring (an exact name wins), empty for the system default. The check can be given a device
list, the defaults and a settings probe, so tests feed it the devices of a box they do not have.
"""

from __future__ import annotations

from typing import Callable, Sequence

from jambox.doctor import Check, Context, ok, problem

ListDevices = Callable[[], tuple[Sequence[dict], tuple[int, int]]]
Probe = Callable[[str, int, int, int], None]  # (kind "input"/"output", device index, channels, rate) -> raises


def sounddevice_devices() -> tuple[list[dict], tuple[int, int]]:
    """Every PortAudio device (dicts as ``sounddevice.query_devices`` gives them) and the default (in, out)."""
    import sounddevice as sd

    devices = [dict(d) for d in sd.query_devices()]
    default = sd.default.device
    return devices, (int(default[0]), int(default[1]))


def sounddevice_probe(kind: str, index: int, channels: int, rate: int) -> None:
    """Ask PortAudio whether the device takes these settings (raises sounddevice.PortAudioError if not)."""
    import sounddevice as sd

    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    check(device=index, channels=channels, samplerate=rate, dtype="float32")


def select(spec: str, devices: Sequence[dict], default: int, kind: str) -> tuple[int | None, str]:
    """The index of the device ``spec`` names among those with ``kind`` channels, or None and why."""
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    usable = [(i, d) for i, d in enumerate(devices) if d.get(key, 0) > 0]
    if spec.strip() == "":
        if default is not None and 0 <= default < len(devices) and devices[default].get(key, 0) > 0:
            return default, ""
        if usable:
            return None, f"there is no default {kind} device"
        return None, f"no device has {kind} channels"
    if spec.strip().lstrip("-").isdigit():
        i = int(spec)
        if 0 <= i < len(devices) and devices[i].get(key, 0) > 0:
            return i, ""
        return None, f"device {i} is not an {kind} device"
    exact = [i for i, d in usable if d["name"] == spec]
    if exact:
        return exact[0], ""
    matches = [i for i, d in usable if spec.lower() in d["name"].lower()]
    if len(matches) == 1:
        return matches[0], ""
    if matches:
        names = ", ".join(repr(devices[i]["name"]) for i in matches)
        return None, f"{spec!r} matches several {kind} devices ({names})"
    return None, f"no {kind} device matches {spec!r}"


def _names(devices: Sequence[dict], kind: str) -> str:
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    names = [f"{i}: {d['name']}" for i, d in enumerate(devices) if d.get(key, 0) > 0]
    return "; ".join(names) if names else "none"


def check_audio(ctx: Context, *, list_devices: ListDevices = sounddevice_devices,
                probe: Probe | None = sounddevice_probe) -> Check:
    name = "audio"
    audio = ctx.config.audio
    try:
        devices, default = list_devices()
    except OSError as e:  # sounddevice raises OSError when the PortAudio library is missing
        return problem(name, f"PortAudio is not usable here ({e})",
                       "sudo apt install libportaudio2, then run jambox doctor again.")
    if not devices:
        return problem(name, "no audio devices found (PortAudio sees no sound card)",
                       "connect the audio HAT or USB interface; on a Pi check the HAT check below and `aplay -l`; "
                       "`jambox run --list-devices` shows what jambox can use.")
    chosen = {}
    for kind, spec in (("input", audio.input_device), ("output", audio.output_device)):
        index, why = select(spec, devices, default[0 if kind == "input" else 1], kind)
        if index is None:
            setting = f"audio.{kind}_device"
            return problem(name, f"{why}" + (f" (from {setting} = {spec!r})" if spec else ""),
                           f"set {setting} to one of these {kind} devices (index or part of the name): "
                           f"{_names(devices, kind)}.")
        chosen[kind] = index
    inp = devices[chosen["input"]]
    if inp["max_input_channels"] < audio.input_channel:
        return problem(name, f"audio.input_channel is {audio.input_channel} but {inp['name']!r} has only "
                             f"{inp['max_input_channels']} input channel(s)",
                       f"set audio.input_channel to 1..{inp['max_input_channels']} (the jack the bass is plugged into).")
    out = devices[chosen["output"]]
    if probe is not None:
        # What jambox run opens: enough input channels to reach the bass's, stereo out (mono if that is all).
        wanted = {"input": audio.input_channel, "output": min(2, out["max_output_channels"])}
        for kind, channels in wanted.items():
            dev = devices[chosen[kind]]
            try:
                probe(kind, chosen[kind], channels, audio.sample_rate)
            except Exception as e:  # noqa: BLE001 - PortAudioError, ValueError: all mean "cannot open it so"
                text = str(e)
                if "busy" in text.lower() or "unavailable" in text.lower():
                    fix = ("another program holds it: if the jambox service is running that is expected "
                           "(sudo systemctl stop jambox to try it by hand); otherwise close the other program.")
                else:
                    fix = "set audio.sample_rate to a rate the device takes (44100, 48000 or 96000) or choose another device."
                return problem(name, f"{kind} {dev['name']!r} refuses {channels} channel(s) at {audio.sample_rate} Hz: "
                                     f"{text}", fix)
    return ok(name, f"input {inp['name']!r} (channel {audio.input_channel} of {inp['max_input_channels']}), "
                    f"output {out['name']!r} ({out['max_output_channels']} channels), {audio.sample_rate} Hz")
