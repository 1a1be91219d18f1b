"""Terminal keys as controls, for a box with no panel (a laptop): one key, one Action.

The terminal goes into cbreak mode (keys arrive one by one, unechoed; Ctrl-C still interrupts)
for as long as :class:`KeyboardControls` is open, and its settings are put back on :meth:`close`,
on leaving the ``with`` block however it is left, and at interpreter exit as a last resort. A pipe
works too (no terminal settings to touch), which is how the tests and scripts drive it.

The reader thread blocks in ``select`` on the input and a wake-up pipe, so it costs nothing while
no key is pressed and stops at once on :meth:`close`. Escape sequences (arrow keys, function keys)
are recognised whole so that their bytes are never read as commands.
"""

from __future__ import annotations

import atexit
import logging
import os
import select
import sys
import threading
from dataclasses import dataclass
from typing import Callable

from jambox.controls.actions import Action, ActionKind
from jambox.controls.knobs import EncoderKnob

log = logging.getLogger(__name__)

SOURCE = "keyboard"
STEP = 0.1  # how far a relative key moves its control


@dataclass(frozen=True, slots=True)
class Key:
    """What a key does: an action, an absolute control value, a relative step, or quit/help."""

    kind: ActionKind | None = None
    control: str | None = None
    value: float | None = None  # absolute
    step: int = 0  # relative: +1 / -1 steps of STEP
    command: str | None = None  # "quit" | "help"


KEYS: dict[str, Key] = {
    "k": Key(ActionKind.KEEP),
    "l": Key(ActionKind.LET_GO),
    "s": Key(ActionKind.SOFTER),
    "S": Key(ActionKind.SOFTER_ALL),
    "d": Key(ActionKind.MORE_DISSONANCE),
    "r": Key(ActionKind.RESOLVE),
    " ": Key(ActionKind.START_STOP),
    "j": Key(ActionKind.JOIN_NOW),
    "t": Key(ActionKind.TAP),
    **{str(n): Key(ActionKind.SET, "energy", round((n - 1) / 8, 3)) for n in range(1, 10)},
    "[": Key(ActionKind.SET, "dissonance", step=-1),
    "]": Key(ActionKind.SET, "dissonance", step=+1),
    ",": Key(ActionKind.SET, "surprise", step=-1),
    ".": Key(ActionKind.SET, "surprise", step=+1),
    "-": Key(ActionKind.SET, "level", step=-1),
    "=": Key(ActionKind.SET, "level", step=+1),
    "+": Key(ActionKind.SET, "level", step=+1),
    "q": Key(command="quit"),
    "h": Key(command="help"),
    "?": Key(command="help"),
}

KEY_HELP = """\
keys:  k keep          l let go          space start/stop   j join now    t tap tempo
       s softer        S softer (all)    d more dissonance  r resolve
       1..9 energy (1 lowest, 9 highest)   [ ] tension   , . surprise   - = level (+ too)
       h or ? help   q quit   (Ctrl-C also quits)"""


def split_keys(data: str) -> tuple[list[str], str]:
    """Split terminal input into keys (single characters and whole escape sequences, ESC [ ... final),
    and the unfinished escape sequence at the end, if any, to be continued by the next read."""
    keys, i = [], 0
    while i < len(data):
        ch = data[i]
        if ch == "\x1b" and (i + 1 == len(data) or data[i + 1] in "[O"):
            j = i + 2
            while j < len(data) and not ("@" <= data[j] <= "~"):  # parameters, up to the final byte
                j += 1
            if j >= len(data):
                return keys, data[i:]
            keys.append(data[i:j + 1])
            i = j + 1
        else:
            keys.append(ch)
            i += 1
    return keys, ""


class KeyMap:
    """Keys to Actions; relative keys step from the controls' current values (see :meth:`sync`)."""

    def __init__(self, controls=None, keys: dict[str, Key] = KEYS):
        self.keys = keys
        self._knobs = {c: EncoderKnob(getattr(controls, c, 0.5) if controls is not None else 0.5, STEP)
                       for c in ("dissonance", "surprise", "level")}

    def sync(self, controls) -> None:
        for name, knob in self._knobs.items():
            knob.sync(getattr(controls, name))

    def lookup(self, key: str) -> Key | None:
        return self.keys.get(key)

    def action(self, key: str) -> Action | None:
        """The Action for ``key``, or None (unknown key, a command, a step past an end)."""
        k = self.keys.get(key)
        if k is None or k.command is not None:
            return None
        if k.kind is not ActionKind.SET:
            return Action(k.kind, SOURCE)
        if k.step:
            knob = self._knobs[k.control]
            value = knob.turn(k.step)
            if value is None:
                return None
        else:
            value = k.value
            if k.control in self._knobs:
                self._knobs[k.control].sync(value)
        return Action.make(ActionKind.SET, source=SOURCE, control=k.control, value=value)


class KeyboardControls:
    """Read keys from ``fd`` (the terminal by default) on a thread and ``submit`` their Actions.

    ``on_quit`` is called (on the reader thread) for ``q`` and at end of input; ``on_help`` for
    ``h``/``?`` (default: print :data:`KEY_HELP` to stderr). ``controls`` (a ControlState) seeds the
    relative keys.
    """

    def __init__(self, submit: Callable[[Action], None], *, fd: int | None = None, controls=None,
                 on_quit: Callable[[], None] | None = None, on_help: Callable[[], None] | None = None,
                 start: bool = True):
        self._submit = submit
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.keymap = KeyMap(controls)
        self._on_quit = on_quit
        self._on_help = on_help or (lambda: print(KEY_HELP, file=sys.stderr, flush=True))
        self._saved = None  # termios settings to restore
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._partial = ""  # an escape sequence split between two reads
        self.submitted = 0
        self._enter_cbreak()
        if start:
            self.start()

    # -- the terminal ---------------------------------------------------------------------------
    def _enter_cbreak(self) -> None:
        if not os.isatty(self.fd):
            return
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        atexit.register(self._restore)
        tty.setcbreak(self.fd, termios.TCSANOW)

    def _restore(self) -> None:
        if self._saved is None:
            return
        import termios

        try:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        except termios.error as e:  # the terminal went away: nothing left to restore
            log.debug("could not restore the terminal: %s", e)
        self._saved = None
        atexit.unregister(self._restore)

    # -- the reader -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="jambox-keyboard", daemon=True)
            self._thread.start()

    def feed(self, text: str) -> None:
        """Handle typed text as if read from the input (also what the reader thread calls)."""
        keys, self._partial = split_keys(self._partial + text)
        for key in keys:
            try:
                self._handle(key)
            except Exception:  # one bad key (or a failing callback) must not lose the others
                log.exception("keyboard key %r", key)

    def _handle(self, key: str) -> None:
        k = self.keymap.lookup(key)
        if k is not None and k.command == "quit":
            if self._on_quit:
                self._on_quit()
        elif k is not None and k.command == "help":
            self._on_help()
        else:
            action = self.keymap.action(key)
            if action is not None:
                self.submitted += 1
                self._submit(action)

    def _read(self) -> None:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                ready, _, _ = select.select([self.fd, self._wake_r], [], [])
            except (OSError, ValueError):  # the input was closed under us
                return
            if self._wake_r in ready:
                return
            try:
                data = os.read(self.fd, 256)
            except OSError:
                data = b""
            if not data:  # end of input: a closed pipe, a hung-up terminal
                if self._on_quit and not self._closed:
                    self._on_quit()
                return
            self.feed(decoder.decode(data))

    def sync(self, controls) -> None:
        """The session's controls as they stand (relative keys step from here)."""
        self.keymap.sync(controls)

    def close(self) -> None:
        """Stop reading and give the terminal back as it was. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            os.write(self._wake_w, b"x")
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=2.0)
        finally:
            self._restore()
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
