"""A MIDI controller or MIDI foot-switch as controls, through python-rtmidi, with a learned map.

The map (``midi-map.toml`` in the user's config directory, written by ``jambox learn``) binds a
control change or a note, on one channel or any, to a target: an action (``keep``, ``softer`` ...)
a continuous control (``energy``, ``tension`` ...), or one of the panel's switches (``footswitch``,
``footswitch2``, ``keep_button``, ``softer_button``, ``dissonance_button``)::

    [[binding]]
    target = "keep"
    type = "cc"       # "cc" or "note"
    channel = 1       # 1..16, or 0 for any channel
    number = 64

How messages become Actions (:class:`MidiMapper`, pure logic):

- a CC bound to a **control** sends ``SET control = value / 127`` when the value changes;
- a CC bound to an **action** fires when the value rises to 64 or more from below (a momentary
  pedal sends 127 on press, 0 on release; set a latching pedal to momentary);
- a note bound to an action fires on note-on (velocity > 0); bound to a control, it sets the
  control to velocity / 127;
- a CC or note bound to a **switch** is that switch: CC >= 64 or note-on is down, CC < 64 or
  note-off is up, and press, long press and double press do what ``[controls]`` says for it (a
  MIDI foot-switch bound to ``footswitch`` starts and stops, and joins now on a long press).

rtmidi calls :meth:`MidiControls._on_message` on its own thread; it only maps and submits. On
Linux rtmidi speaks to the ALSA sequencer (``/dev/snd/seq``) or to JACK; ``controls.midi_api``
picks one, empty tries ALSA and then JACK.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from jambox.controls.actions import CONTROL_ALIASES, CONTROLS, Action, ActionKind, control_name
from jambox import midi_ports
from jambox.midi_watch import PortWatch, PortWatcher, open_watch
from jambox.errors import ConfigError, MidiError, UnknownActionError, did_you_mean

log = logging.getLogger(__name__)

SOURCE = "midi"
MAP_FILE = "midi-map.toml"
TYPES = ("cc", "note")
ACTION_TARGETS = tuple(k.value for k in ActionKind if k is not ActionKind.SET)
# MIDI names of the panel's switches (jambox.controls.switches.SWITCHES)
SWITCH_TARGETS = {"footswitch": "footswitch", "footswitch2": "footswitch2", "keep_button": "keep",
                  "softer_button": "softer", "dissonance_button": "dissonance"}
TARGETS = ACTION_TARGETS + CONTROLS + tuple(CONTROL_ALIASES) + tuple(SWITCH_TARGETS)
APIS = midi_ports.APIS


def target_name(name: str) -> str:
    """The canonical target for ``name`` (an action or a control, aliases allowed), or a clear UnknownActionError."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key in ACTION_TARGETS or key in SWITCH_TARGETS:
        return key
    try:
        return control_name(key)
    except ValueError:
        raise UnknownActionError(f"cannot map MIDI to {name!r}{did_you_mean(key, TARGETS)}; expected an action "
                                 f"({', '.join(ACTION_TARGETS)}), a control ({', '.join(CONTROLS + tuple(CONTROL_ALIASES))}) "
                                 f"or a switch ({', '.join(SWITCH_TARGETS)})") from None


@dataclass(frozen=True, slots=True)
class MidiBinding:
    type: str  # "cc" | "note"
    channel: int  # 1..16; 0 = any channel
    number: int  # controller or note number 0..127
    target: str  # an action name or a canonical control name

    @property
    def is_control(self) -> bool:
        return self.target in CONTROLS

    @property
    def switch(self) -> str | None:
        """The panel switch this binding stands for (``footswitch``, ``keep`` ...), or None."""
        return SWITCH_TARGETS.get(self.target)

    def matches(self, type_: str, channel: int, number: int) -> bool:
        """``channel`` 1..16."""
        return self.type == type_ and self.number == number and self.channel in (0, channel)

    def describe(self) -> str:
        what = f"CC {self.number}" if self.type == "cc" else f"note {self.number}"
        return f"{self.target:16s} <- {what} on {'any channel' if self.channel == 0 else f'channel {self.channel}'}"


@dataclass
class MidiMap:
    bindings: list[MidiBinding] = field(default_factory=list)

    def bind(self, binding: MidiBinding, *, add: bool = False) -> None:
        """Add ``binding``. The message it listens to loses any other target; unless ``add``, so does
        its target lose the messages it had (learning ``keep`` again moves KEEP to the new pedal)."""
        self.bindings = [b for b in self.bindings
                         if not (b.type == binding.type and b.number == binding.number
                                 and (b.channel == binding.channel or 0 in (b.channel, binding.channel)))
                         and (add or b.target != binding.target)]
        self.bindings.append(binding)

    def forget(self, target: str) -> int:
        """Drop every binding of ``target``; how many there were."""
        t = target_name(target)
        before = len(self.bindings)
        self.bindings = [b for b in self.bindings if b.target != t]
        return before - len(self.bindings)

    def find(self, type_: str, channel: int, number: int) -> MidiBinding | None:
        for b in self.bindings:
            if b.matches(type_, channel, number):
                return b
        return None

    def to_toml(self) -> str:
        lines = ["# jambox MIDI controller map, written by `jambox learn` (see `jambox learn --help`).",
                 "# type: cc or note; channel: 1..16, 0 = any; target: an action or a control.", ""]
        for b in self.bindings:
            lines += ["[[binding]]", f'target = "{b.target}"', f'type = "{b.type}"',
                      f"channel = {b.channel}", f"number = {b.number}", ""]
        return "\n".join(lines)


def default_map_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("jambox")) / MAP_FILE


def map_path(config=None) -> Path:
    """``controls.midi_map`` if set, else ``midi-map.toml`` in the user's config directory."""
    configured = getattr(getattr(config, "controls", None), "midi_map", "") if config is not None else ""
    return Path(configured).expanduser() if configured else default_map_path()


def load_map(path: str | Path) -> MidiMap:
    """The map in ``path``; an empty map if there is no file. Every bad binding is reported at once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return MidiMap()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read MIDI map {path}: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"MIDI map {path} is not valid TOML: {e}") from None
    problems, bindings = [], []
    unknown = [k for k in data if k != "binding"]
    if unknown:
        problems.append(f"unknown table {unknown[0]!r}; expected only [[binding]] entries")
    entries = data.get("binding", [])
    if not isinstance(entries, list):
        problems.append("binding must be an array of tables ([[binding]])")
        entries = []
    for i, entry in enumerate(entries):
        try:
            bindings.append(_binding(entry))
        except ValueError as e:
            problems += [f"binding {i}: {p}" for p in str(e).split("\n")]
    if problems:
        raise ConfigError(problems, str(path))
    return MidiMap(bindings)


def _binding(entry: dict) -> MidiBinding:
    problems = []
    extra = [k for k in entry if k not in ("target", "type", "channel", "number")]
    if extra:
        problems.append(f"unknown key {extra[0]!r}; expected target, type, channel, number")
    type_ = entry.get("type")
    if type_ not in TYPES:
        problems.append(f"type must be one of 'cc', 'note', not {type_!r}")
    channel, number = entry.get("channel", 0), entry.get("number")
    if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel <= 16:
        problems.append(f"channel must be int in range 0..16 (0 = any), not {channel!r}")
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 127:
        problems.append(f"number must be int in range 0..127, not {number!r}")
    target = None
    try:
        target = target_name(entry.get("target", ""))
    except UnknownActionError as e:
        problems.append(str(e))
    if problems:
        raise ValueError("\n".join(problems))
    return MidiBinding(type_, channel, number, target)


def save_map(midi_map: MidiMap, path: str | Path) -> None:
    """Write the map atomically (a pulled plug leaves the old file or the new one, never half of one)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".midi-map-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(midi_map.to_toml())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        raise ConfigError(f"cannot write MIDI map {path}: {e.strerror or e}") from None


# -- messages ---------------------------------------------------------------------------------------

def decode(data) -> tuple[str, int, int, int] | None:
    """``(type, channel 1..16, number, value)`` for a CC, note-on or note-off; None for anything else.

    A note-on with velocity 0 is a note-off, as MIDI running status sends it."""
    import mido

    try:
        msg = mido.Message.from_bytes(list(data))
    except (ValueError, TypeError):
        return None
    if msg.type == "control_change":
        return "cc", msg.channel + 1, msg.control, msg.value
    if msg.type == "note_on":
        return ("note", msg.channel + 1, msg.note, msg.velocity) if msg.velocity else ("note_off", msg.channel + 1, msg.note, 0)
    if msg.type == "note_off":
        return "note_off", msg.channel + 1, msg.note, 0
    return None


@dataclass(frozen=True, slots=True)
class SwitchEdge:
    """A MIDI message that moved one of the panel's switches (see :data:`SWITCH_TARGETS`)."""

    switch: str  # a name in jambox.controls.switches.SWITCHES
    pressed: bool


class MidiMapper:
    """MIDI messages to Actions (or switch edges) through a :class:`MidiMap`. Keeps the last value of each CC."""

    def __init__(self, midi_map: MidiMap):
        self.map = midi_map
        self._last: dict[tuple[str, int, int], int] = {}

    def forget_levels(self) -> None:
        """Forget every CC's last value (the controller went away: what it sends next is news)."""
        self._last.clear()

    def message(self, data) -> Action | SwitchEdge | None:
        m = decode(data)
        if m is None:
            return None
        type_, channel, number, value = m
        off = type_ == "note_off"
        b = self.map.find("note" if off else type_, channel, number)
        if b is None:
            return None
        if b.switch is not None:
            if type_ == "cc":
                key = ("cc", channel, number)
                last = self._last.get(key)
                self._last[key] = value
                if last is not None and (last >= 64) == (value >= 64):
                    return None
                return SwitchEdge(b.switch, value >= 64)
            return SwitchEdge(b.switch, not off)
        if off:
            return None
        key = (type_, channel, number)
        last = self._last.get(key)
        self._last[key] = value
        if b.is_control:
            if type_ == "cc" and value == last:
                return None
            return Action.make(ActionKind.SET, source=SOURCE, control=b.target, value=round(value / 127, 4))
        if type_ == "cc" and (value < 64 or (last is not None and last >= 64)):
            return None
        return Action(ActionKind(b.target), SOURCE)


# -- ports ------------------------------------------------------------------------------------------

def open_midi_in(api: str = "", client: str = "jambox"):
    """An ``rtmidi.MidiIn`` on ``api`` ("alsa", "jack"; empty: ALSA, then JACK), or a MidiError."""
    midi_in = midi_ports.open_rtmidi("input", api, client)
    midi_in.ignore_types(sysex=True, timing=True, active_sense=True)
    return midi_in


def find_port(ports: list[str], wanted: str) -> int:
    """The index of the controller's port named by ``wanted``: an index, or a name substring."""
    return midi_ports.find_port(ports, wanted, kind="input", setting="controls.midi_in")


def open_port(wanted: str, api: str = "", client: str = "jambox"):
    """``(midi_in, port_name)`` with the port open."""
    midi_in = open_midi_in(api, client)
    name = midi_ports.open_named(midi_in, wanted, kind="input", setting="controls.midi_in", port_name=f"{client} in")
    return midi_in, name


class MidiControls:
    """A MIDI controller's messages, mapped, as Actions given to ``submit`` (on rtmidi's thread).

    ``midi_in`` is an open ``rtmidi.MidiIn`` (tests pass one on a JACK or ALSA virtual port), used
    as it is. Without it the port ``port`` (default ``controls.midi_in``) is watched for
    (:mod:`jambox.midi_watch`, every ``controls.midi_poll_s``): opened now if it is there, else when
    it appears, closed when it goes, opened again when it comes back. Only a missing MIDI system
    (no ALSA sequencer, no JACK) is a MidiError; an absent controller is waited for.
    """

    def __init__(self, config, submit: Callable[[Action], None], *, midi_map: MidiMap | None = None,
                 port: str | None = None, midi_in=None):
        from jambox.controls.gestures import GestureTiming
        from jambox.controls.switches import switch_spec

        self._submit = submit
        self.mapper = MidiMapper(midi_map if midi_map is not None else load_map(map_path(config)))
        self._timing = GestureTiming.from_config(config.controls)
        self._switch_specs = {b.switch: switch_spec(config, b.switch) for b in self.mapper.map.bindings
                              if b.switch is not None}
        self.received = 0
        self.submitted = 0
        self._bank = self._new_bank()
        self._midi_in = midi_in
        self._watch: PortWatch | None = None
        self._watcher: PortWatcher | None = None
        self.wanted = config.controls.midi_in if port is None else port
        try:
            if midi_in is not None:
                midi_in.set_callback(self._on_message)
            else:
                self._watch = open_watch("input", self.wanted, api=getattr(config.controls, "midi_api", ""),
                                         setting="controls.midi_in", label="MIDI controller",
                                         port_name="jambox in", on_open=self._attach, on_close=self._detach)
                self._watcher = PortWatcher(self._watch, config.controls.midi_poll_s,
                                            name="jambox-midi-in-watch").start()
        except BaseException:
            self._bank.close()
            raise
        if not self.mapper.map.bindings:
            log.warning("MIDI input %r has no bindings: map some with `jambox learn ACTION`", self.wanted)

    @property
    def port_name(self) -> str | None:
        """The controller's port as listed while it is open; None while it is waited for."""
        return "(given)" if self._watch is None else self._watch.name

    @property
    def connected(self) -> bool:
        return self._watch is None or self._watch.connected

    def describe(self) -> str:
        """``"on PORT"`` or ``"waiting for port 'X' (why)"``."""
        return "on (given)" if self._watch is None else self._watch.describe()

    def _new_bank(self):
        """The switches' gesture detectors, all released, their timer started."""
        from jambox.controls.switches import SwitchBank

        bank = SwitchBank(self._submit_counted, source=SOURCE)
        self._switch_index = {name: bank.add(spec, self._timing) for name, spec in self._switch_specs.items()}
        bank.start()
        return bank

    def _attach(self, midi_in) -> None:  # the watcher's thread, after the port opened
        midi_in.set_callback(self._on_message)

    def _detach(self, midi_in) -> None:
        """The watcher's thread, before the port closes: no more messages, and nothing held.

        A pedal held down when the cable went would otherwise stay down for ever: its long press
        would fire, and its next real press, being no change, would be lost. So the switches start
        again released (a fresh bank: the old one's pending gestures never fire) and the CC levels
        are forgotten."""
        midi_in.cancel_callback()
        if self._switch_specs:
            old, self._bank = self._bank, self._new_bank()
            old.close()
        self.mapper.forget_levels()

    def _on_message(self, event, data=None) -> None:
        message, _delta = event
        self.received += 1
        try:
            out = self.mapper.message(message)
            if isinstance(out, SwitchEdge):
                self._bank.edge(self._switch_index[out.switch], out.pressed)
            elif out is not None:
                self._submit_counted(out)
        except Exception:  # rtmidi's thread must survive a bad message or a failing submit
            log.exception("MIDI message %r", message)

    def _submit_counted(self, action: Action) -> None:
        self.submitted += 1
        self._submit(action)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()  # first: then nothing else touches the port or swaps the bank
            self._watcher = None
        if self._watch is not None:
            self._watch.close()  # before the bank: closing the port detaches, which starts a fresh bank
            self._watch = None
        self._bank.close()
        if self._midi_in is None:
            return
        try:
            self._midi_in.cancel_callback()
            self._midi_in.close_port()
        finally:
            self._midi_in.delete()
            self._midi_in = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_for_binding_message(midi_in, timeout: float | None) -> tuple[str, int, int]:
    """The next CC or note-on on an open ``midi_in``: ``(type, channel, number)``; MidiError on timeout."""
    got: queue.SimpleQueue = queue.SimpleQueue()

    def on_message(event, data=None):
        m = decode(event[0])
        if m is not None and m[0] in TYPES and (m[0] == "cc" or m[3] > 0):
            got.put(m[:3])

    midi_in.set_callback(on_message)
    try:
        return got.get(timeout=timeout)
    except queue.Empty:
        raise MidiError(f"no control change or note arrived within {timeout:g} s") from None
    finally:
        midi_in.cancel_callback()
