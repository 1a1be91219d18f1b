"""Can jambox open the configured audio input and output, with the channel the bass is on?

The check asks exactly what ``jambox run`` asks, through the same functions
(:mod:`jambox.audio.devices`: the device list from PortAudio, ``audio.input_device`` /
``audio.output_device`` resolved as an index or a name substring, the stream settings probed), so
its answer and the run's cannot disagree; the doctor adds how to fix what it finds.
"""

from __future__ import annotations

from jambox.doctor import Check, Context, ok, problem


def _device(devs: list[dict], index: int | None, kind: str) -> dict | None:
    if index is not None:
        return next((d for d in devs if d["index"] == index), None)
    from jambox.audio import devices

    sd = devices._sd()
    try:
        d = dict(sd.query_devices(kind=kind))
    except (sd.PortAudioError, ValueError):
        return None
    return next((x for x in devs if x["name"] == d["name"]), d)


def _names(devs: list[dict], kind: str) -> str:
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    names = [f"{d['index']}: {d['name']}" for d in devs if d.get(key, 0) > 0]
    return "; ".join(names) if names else "none"


def _fix_for(message: str) -> str:
    low = message.lower()
    if "busy" in low or "unavailable" in low:
        return ("another program holds it: if the jambox service is running that is expected "
                "(sudo systemctl stop jambox to try it by hand); otherwise close the other program.")
    if "hz" in low and "refuses" in low:
        return "set audio.sample_rate to a rate the device takes (44100, 48000 or 96000), or choose another device."
    return "check the device with `jambox run --list-devices` and the audio section of the config."


def check_audio(ctx: Context) -> Check:
    from jambox.audio import devices
    from jambox.errors import AudioDeviceError

    name = "audio"
    audio = ctx.config.audio
    try:
        devs = devices.devices()
    except AudioDeviceError as e:  # PortAudio itself is missing
        return problem(name, str(e), "sudo apt install libportaudio2, then run jambox doctor again.")
    if not devs:
        return problem(name, "no audio devices found (PortAudio sees no sound card and no JACK server)",
                       "connect the audio HAT or USB interface; on a Pi see the hat check and `aplay -l`; "
                       "`jambox run --list-devices` shows what jambox can use.")
    chosen: dict[str, dict] = {}
    for kind, spec in (("input", audio.input_device), ("output", audio.output_device)):
        try:
            index = devices.resolve(spec, kind)
        except AudioDeviceError as e:
            setting = f"audio.{kind}_device"
            return problem(name, str(e) + (f" (from {setting} = {spec!r})" if spec else ""),
                           f"set {setting} to one of these {kind} devices (index or part of the name): "
                           f"{_names(devs, kind)}.")
        d = _device(devs, index, kind)
        if d is None:
            return problem(name, f"no default {kind} device", f"set audio.{kind}_device: {_names(devs, kind)}.")
        chosen[kind] = d | {"resolved": index}
    inp, out = chosen["input"], chosen["output"]
    if inp["max_input_channels"] < audio.input_channel:
        return problem(name, f"audio.input_channel is {audio.input_channel} but {inp['name']!r} has only "
                             f"{inp['max_input_channels']} input channel(s)",
                       f"set audio.input_channel to 1..{inp['max_input_channels']} (the jack the bass is plugged into).")
    # What jambox run opens: enough input channels to reach the bass's, stereo out (mono if that is all).
    for kind, d, channels in (("input", inp, audio.input_channel), ("output", out, min(2, out["max_output_channels"]))):
        try:
            devices.check_settings(d["resolved"], kind, audio.sample_rate, channels)
        except AudioDeviceError as e:
            return problem(name, str(e), _fix_for(str(e)))
    return ok(name, f"input {inp['name']!r} (channel {audio.input_channel} of {inp['max_input_channels']}), "
                    f"output {out['name']!r} ({out['max_output_channels']} channels), {audio.sample_rate} Hz")
