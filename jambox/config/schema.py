"""The configuration schema: every key, its type, its default and what is allowed.

``default.toml`` beside this file is the documented copy of these defaults (a test keeps the two
in step). Sections map to the stages: audio, listener, generator, performer, controls, gpio,
memory, initial (where the controls start before taste and feedback move them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    kind: type  # int, float, str or bool
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.min is not None and self.max is not None:
            return f"{self.kind.__name__} in range {self.min:g}..{self.max:g}"
        if self.min is not None:
            return f"{self.kind.__name__} >= {self.min:g}"
        return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[self.kind]

    def check(self, key: str, value: Any) -> tuple[Any, str | None]:
        """The value converted to the field's type, or an error naming key, value and what is allowed."""
        v = value
        if self.kind is bool:
            if not isinstance(v, bool):
                return None, f"{key} must be true or false, not {value!r}"
        elif self.kind is int:
            if isinstance(v, bool) or not isinstance(v, int):
                return None, f"{key} must be {self.allowed()}, not {value!r}"
        elif self.kind is float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return None, f"{key} must be {self.allowed()}, not {value!r}"
            v = float(v)
        elif self.kind is str:
            if not isinstance(v, str):
                return None, f"{key} must be {self.allowed()}, not {value!r}"
        if self.choices is not None and v not in self.choices:
            from jambox.errors import did_you_mean

            hint = did_you_mean(v, [str(c) for c in self.choices]) if isinstance(v, str) else ""
            return None, f"{key} must be {self.allowed()}, not {value!r}{hint}"
        if self.min is not None and v < self.min or self.max is not None and v > self.max:
            return None, f"{key} must be {self.allowed()}, not {value!r}"
        return v, None


F = Field

# What a button gesture may do: an action name (jambox.controls.actions.ActionKind, all but "set"), or nothing.
GESTURE_ACTIONS = ("", "keep", "softer", "softer_all", "more_dissonance", "resolve", "let_go", "start_stop",
                   "join_now", "tap")

SCHEMA: dict[str, dict[str, Field]] = {
    "audio": {
        "sample_rate": F(int, 48000, "stream sample rate in Hz", choices=(44100, 48000, 96000)),
        "block_size": F(int, 128, "frames per audio callback", choices=(32, 64, 128, 256, 512, 1024)),
        "input_device": F(str, "", "input device: index or name substring; empty = system default"),
        "output_device": F(str, "", "output device: index or name substring; empty = system default"),
        "input_channel": F(int, 1, "which input channel carries the bass (1-based)", 1, 32),
        "input_gain_db": F(float, 0.0, "gain applied to the bass before listening", -24.0, 24.0),
        "dry_level": F(float, 1.0, "level of the dry bass mixed into the output (0 = none)", 0.0, 1.0),
        "output_latency_blocks": F(int, 4, "blocks the accompaniment is rendered ahead of the output", 1, 64),
        "reopen_interval_s": F(float, 2.0, "seconds between attempts to reopen a lost device", 0.1, 60.0),
        "callback_process": F(bool, True, "run the audio callback in a process of its own, off the engine's GIL "
                              "(Linux; elsewhere, or off, it runs in the engine's process)"),
    },
    "listener": {
        "hop_size": F(int, 256, "samples per analysis hop at the stream rate", choices=(128, 256, 512)),
        "lowest_note": F(int, 23, "lowest bass note to listen for (MIDI; 23 = B0 of a 5-string)", 12, 60),
        "highest_note": F(int, 72, "highest bass note to listen for (MIDI)", 36, 96),
        "silence_db": F(float, -55.0, "level below which the input counts as silence (dBFS)", -90.0, -10.0),
        "onset_threshold": F(float, 0.8, "onset sensitivity (lower hears more onsets)", 0.01, 2.0),
        "min_note_ms": F(float, 40.0, "shortest note that counts", 5.0, 500.0),
    },
    "generator": {
        "model": F(str, "", "path to the ONNX model; empty = the shipped int8 model in models/"),
        "backend": F(str, "onnx", "which runtime steps the model", choices=("onnx", "tflite")),
        "steps_ahead": F(int, 2, "generator steps planned ahead of the beat grid", 1, 16),
        "join_after_loops": F(int, 1, "loops of the riff to hear before joining (0 = join once tempo is sure)", 0, 8),
        "stop_after_silent_bars": F(int, 2, "bars of silence after which the box stops", 1, 16),
        "seed": F(int, 0, "random seed for sampling; 0 = a new seed each session", 0, 2**31 - 1),
    },
    "performer": {
        "soundfont": F(str, "/usr/share/sounds/sf2/FluidR3_GM.sf2", "General MIDI soundfont (.sf2)"),
        "keys_program": F(int, 4, "GM program for the keys (0-based; 4 = electric piano)", 0, 127),
        "keys_volume_db": F(float, -9.0, "the keys' channel volume against the drums (a GM electric piano chord is ~9 dB louder than a snare)", -40.0, 0.0),
        "drum_kit": F(int, 0, "GM drum kit (bank 128 program)", 0, 127),
        "gain": F(float, 0.8, "FluidSynth master gain (0.8: drums and keys about 10 dB below a bass at -16 dBFS RMS)", 0.0, 5.0),
        "reverb": F(bool, True, "FluidSynth reverb on the accompaniment"),
        "midi_out": F(str, "", "MIDI output port (name substring); empty = no MIDI out"),
        "midi_keys_channel": F(int, 1, "MIDI channel for the keys (1..16); drums are always on 10", 1, 16),
        "midi_clock": F(bool, True, "send MIDI clock (24 per quarter) on the MIDI output"),
    },
    "controls": {
        "keyboard": F(bool, True, "terminal keys as controls when jambox run has a terminal"),
        "gpio": F(bool, False, "buttons, knobs, foot-switch and LEDs on the Pi's GPIO"),
        "midi_in": F(str, "", "MIDI input port for a controller or foot-switch (name substring)"),
        "midi_api": F(str, "", "MIDI system for the input: alsa, jack, or empty to try ALSA then JACK",
                      choices=("", "alsa", "jack")),
        "midi_map": F(str, "", "MIDI controller map written by jambox learn; empty = midi-map.toml in the user's config directory"),
        "midi_poll_s": F(float, 1.0, "how often to look for the MIDI controller's and synth's ports, to pick them up when plugged in (again)", 0.05, 10.0),
        "knobs": F(str, "mcp3008", "how the knobs are wired", choices=("mcp3008", "encoder", "none")),
        "long_press_s": F(float, 0.6, "a press held this long is a long press", 0.2, 3.0),
        "double_press_s": F(float, 0.35, "two presses within this time are a double press", 0.1, 1.0),
        "debounce_ms": F(float, 20.0, "debounce time for buttons and foot-switches", 0.0, 200.0),
        "suggestions": F(bool, True, "let the box propose variations at phrase boundaries"),
        "suggestion_kinds": F(str, "fill, break, substitution, odd_bar",
                              "the variations the box may propose, comma-separated: fill, break, substitution, odd_bar"),
        "footswitch_action": F(str, "start_stop", "what the foot-switch does",
                               choices=("start_stop", "join_now", "keep", "softer", "more_dissonance", "tap")),
        "footswitch_long": F(str, "join_now", "what a long press of the foot-switch does; empty = nothing", choices=GESTURE_ACTIONS),
        "footswitch_double": F(str, "", "what a double press of the foot-switch does; empty = nothing", choices=GESTURE_ACTIONS),
        "footswitch2_press": F(str, "tap", "what the second foot-switch does; empty = nothing", choices=GESTURE_ACTIONS),
        "footswitch2_long": F(str, "", "what a long press of the second foot-switch does", choices=GESTURE_ACTIONS),
        "footswitch2_double": F(str, "", "what a double press of the second foot-switch does", choices=GESTURE_ACTIONS),
        "keep_press": F(str, "keep", "what a press of KEEP does; empty = nothing", choices=GESTURE_ACTIONS),
        "keep_long": F(str, "", "what a long press of KEEP does", choices=GESTURE_ACTIONS),
        "keep_double": F(str, "let_go", "what a double press of KEEP does", choices=GESTURE_ACTIONS),
        "softer_press": F(str, "softer", "what a press of SOFTER does", choices=GESTURE_ACTIONS),
        "softer_long": F(str, "softer_all", "what a long press of SOFTER does", choices=GESTURE_ACTIONS),
        "softer_double": F(str, "", "what a double press of SOFTER does", choices=GESTURE_ACTIONS),
        "dissonance_press": F(str, "more_dissonance", "what a press of MORE DISSONANCE does", choices=GESTURE_ACTIONS),
        "dissonance_long": F(str, "resolve", "what a long press of MORE DISSONANCE does", choices=GESTURE_ACTIONS),
        "dissonance_double": F(str, "", "what a double press of MORE DISSONANCE does", choices=GESTURE_ACTIONS),
        "knob_dead_band": F(float, 0.02, "a knob sends a new value only when it moves this far (share of its travel)", 0.0, 0.5),
        "knob_smoothing_s": F(float, 0.05, "time constant of the smoothing of knob readings (0 = none)", 0.0, 2.0),
        "knob_poll_hz": F(int, 50, "how often the MCP3008 knobs are read per second", 5, 500),
        "knob_pickup": F(bool, False, "a pot whose control was moved elsewhere takes over only when it reaches that value (no jumps)"),
        "encoder_step": F(float, 0.05, "how far one detent of a rotary encoder moves its control", 0.005, 0.5),
    },
    "gpio": {
        "keep_pin": F(int, 17, "BCM pin of the KEEP button", 0, 27),
        "softer_pin": F(int, 27, "BCM pin of the SOFTER button", 0, 27),
        "dissonance_pin": F(int, 22, "BCM pin of the MORE DISSONANCE button", 0, 27),
        "footswitch_pin": F(int, 23, "BCM pin of the foot-switch jack", 0, 27),
        "footswitch2_pin": F(int, -1, "BCM pin of a second foot-switch; -1 = none", -1, 27),
        "led_listening_pin": F(int, 5, "BCM pin of the LISTENING LED", 0, 27),
        "led_playing_pin": F(int, 6, "BCM pin of the PLAYING LED", 0, 27),
        "led_beat_pin": F(int, 13, "BCM pin of the BEAT LED", 0, 27),
        "led_suggestion_pin": F(int, 16, "BCM pin of the SUGGESTION LED", 0, 27),
        "led_error_pin": F(int, 26, "BCM pin of the ERROR LED", 0, 27),
        "pull_up": F(bool, True, "buttons short the pin to ground (internal pull-up)"),
        "footswitch_normally_closed": F(bool, False, "the foot-switches open their contact when pressed (normally-closed pedals)"),
        "adc_select": F(int, 0, "SPI0 chip select of the MCP3008 (0 = CE0 on BCM 8, 1 = CE1 on BCM 7)", 0, 1),
        "energy_adc_channel": F(int, 0, "MCP3008 channel of the ENERGY knob; -1 = none", -1, 7),
        "tension_adc_channel": F(int, 1, "MCP3008 channel of the TENSION knob; -1 = none", -1, 7),
        "surprise_adc_channel": F(int, 2, "MCP3008 channel of the SURPRISE knob; -1 = none", -1, 7),
        "level_adc_channel": F(int, 3, "MCP3008 channel of the LEVEL knob; -1 = none", -1, 7),
        "energy_encoder_a": F(int, 4, "BCM pin of the ENERGY encoder's A contact; -1 = none", -1, 27),
        "energy_encoder_b": F(int, 12, "BCM pin of the ENERGY encoder's B contact", -1, 27),
        "energy_encoder_push": F(int, -1, "BCM pin of the ENERGY encoder's push switch (back to the start value); -1 = none", -1, 27),
        "tension_encoder_a": F(int, 14, "BCM pin of the TENSION encoder's A contact; -1 = none", -1, 27),
        "tension_encoder_b": F(int, 15, "BCM pin of the TENSION encoder's B contact", -1, 27),
        "tension_encoder_push": F(int, -1, "BCM pin of the TENSION encoder's push switch; -1 = none", -1, 27),
        "surprise_encoder_a": F(int, -1, "BCM pin of the SURPRISE encoder's A contact; -1 = none", -1, 27),
        "surprise_encoder_b": F(int, -1, "BCM pin of the SURPRISE encoder's B contact", -1, 27),
        "surprise_encoder_push": F(int, -1, "BCM pin of the SURPRISE encoder's push switch; -1 = none", -1, 27),
        "level_encoder_a": F(int, -1, "BCM pin of the LEVEL encoder's A contact; -1 = none", -1, 27),
        "level_encoder_b": F(int, -1, "BCM pin of the LEVEL encoder's B contact", -1, 27),
        "level_encoder_push": F(int, -1, "BCM pin of the LEVEL encoder's push switch; -1 = none", -1, 27),
    },
    "memory": {
        "state_file": F(str, "", "SQLite state file; empty = the user's data directory (/var/lib/jambox under systemd)"),
        "taste_weight": F(float, 0.7, "how strongly learned taste sets the starting controls", 0.0, 1.0),
        "resume_within_s": F(float, 600.0, "a restart this soon after a session stopped without ending (a crash, a "
                             "pulled plug) resumes its knobs, tension and softened voices; 0 = never", 0.0, 86400.0),
    },
    "initial": {
        "energy": F(float, 0.6, "starting energy", 0.0, 1.0),
        "dissonance": F(float, 0.2, "starting dissonance (tension)", 0.0, 1.0),
        "surprise": F(float, 0.3, "starting surprise", 0.0, 1.0),
        "level": F(float, 0.8, "starting accompaniment level", 0.0, 1.0),
        "drums_level": F(float, 0.8, "starting drums level", 0.0, 1.0),
        "keys_level": F(float, 0.7, "starting keys level", 0.0, 1.0),
    },
}
