"""The session: what the player's feedback does (issue 6), on the logic thread.

The session owns the controls (an immutable :class:`ControlState`, swapped whole, read by the
generator at every step, so every action is heard at the next step), applies each :class:`Action`,
and runs the time-based behaviour in :meth:`Session.tick`: suggestions at phrase boundaries, riff
recall, taste once the meter and tempo are known. Everything it learns goes to the memory
(``memory=None`` works: no persistence). What each action does:

- SOFTER: the most prominent element (recent velocity x density, loudness-weighted: the snare, or the
  keys if they dominate) one step down in level, which the generator plays as fewer and softer notes.
- SOFTER_ALL: the whole accompaniment one step down.
- MORE_DISSONANCE: dissonance one step up, and held: no resolution at phrase ends until RESOLVE.
- RESOLVE: back to the starting (consonant) dissonance; the hold is released.
- KEEP: what plays now (one loop of the riff, both parts, and the settings) is kept for this riff and
  played again with small human variation; the memory records it as liked. While a suggestion is
  pending, KEEP adopts it instead: it becomes part of the kept pattern.
- LET_GO: drops a pending suggestion, else the kept pattern.
- SOFTER, SOFTER_ALL or RESOLVE while a suggestion plays also let it go (the player pushed back
  against it), and then do what they always do.
- START_STOP, JOIN_NOW, TAP (tap tempo, offered as :attr:`Session.tap_tempo_bpm`), SET (a knob).

Suggestions: ahead of the end of a phrase (the riff's loop, repeated to about four bars), with a
chance set by the surprise knob, the box tries a variation over the phrase's last bar or beats and
lights the suggestion LED (:attr:`Session.suggestion_pending`): a fill (the last bar, or half of a
one-bar loop), a break (the last two beats), a chord substitution (the last bar), or an odd bar
(the whole last bar, its accents and chord stabs grouped unevenly, 3+3+2 in 4/4, 3+2+2 in 7/8, 3+3
in 3/4, over a hi-hat that keeps the bar's own beats; see :mod:`jambox.generate.odd_bar`). The
kinds tried are ``controls.suggestion_kinds``. KEEP from the offer until a bar after the phrase's
end adopts it (it becomes part of the kept pattern, so it recurs at that point of the loop),
otherwise it is let go. Both outcomes go to the memory, with how they were decided; a kind the
player keeps letting go is tried less often, this session and (through the taste's appetite for
it, in this meter and tempo range) the next, and let-go suggestions lower the surprise the next
session starts with, kept ones raise it. No suggestion comes for a phrase after a KEEP.

Restarts: a session that stopped without ending (a crash, a pulled plug) less than
``memory.resume_within_s`` ago is resumed: the knobs, the held tension and the softened voices
come back as they were (the log says so), and the kept loop with its riff, as for any riff heard
again. The state is saved with every action and at least every :data:`HEARTBEAT_S` seconds.
An older state, or a clean stop, starts fresh (shaped by the taste).

Riffs: once a loop has been heard it is fingerprinted, and a pattern kept for it (or a similar riff)
in an earlier session comes back, lined up with the loop, transposed to the key, with the knobs it
was kept with. A new riff (the section start jumps, or the meter changes) lets the kept pattern go;
the same riff heard as a longer loop does not.
"""

from __future__ import annotations

import logging
import math
import random
from collections import deque
from dataclasses import dataclass

from jambox.controls.actions import CONTROLS, Action, ActionKind
from jambox.controls.state import ControlState
from jambox.errors import ConfigError, JamboxError
from jambox.events import Heard
from jambox.generate.dynamics import PROMINENCE_VOICES
from jambox.generate.generator import DEFAULT_TASTE, TASTE_FIELDS, Generator, phrase_bars
from jambox.generate.pattern import merge_parts, part_of, pattern_qualities
from jambox.memory.taste import NEUTRAL_APPETITE, appetite_key

log = logging.getLogger(__name__)

SOFTER_STEP = 0.2  # a voice's trim per SOFTER press (of 1.0)
TRIM_EXPONENT = 1.6  # how a trim changes a voice's prominence (velocity ** 0.6 x density)
SOFTER_ALL_STEP = 0.1  # the level per long press
DISSONANCE_STEP = 0.15
SUGGESTION_RATE = 0.6  # chance of a suggestion at a phrase boundary at full surprise
# How often each kind is tried: fills most (the everyday end of a phrase), the odd bar and the break,
# the boldest statements, least.
SUGGESTION_KINDS = {"fill": 0.4, "break": 0.15, "substitution": 0.25, "odd_bar": 0.2}
PUSHBACK = (ActionKind.SOFTER, ActionKind.SOFTER_ALL, ActionKind.RESOLVE)  # while a suggestion plays: let it go
HEARTBEAT_S = 30.0  # the session state is saved at least this often (stream time), for a restart's "how long ago"
TAP_MIN_S, TAP_MAX_S = 0.2, 2.0  # tap intervals outside this are a new tap sequence
PARTS = ("drums", "keys")


def suggestion_kinds(text: str) -> tuple[str, ...]:
    """The kinds named in ``controls.suggestion_kinds`` ("fill, odd_bar"), in SUGGESTION_KINDS' order;
    a ConfigError names any unknown one."""
    names = [n.strip() for n in str(text).replace(";", ",").split(",") if n.strip()]
    unknown = [n for n in names if n not in SUGGESTION_KINDS]
    if unknown:
        from jambox.errors import did_you_mean

        raise ConfigError([f"controls.suggestion_kinds: {n!r} is not a suggestion; the kinds are "
                           f"{', '.join(SUGGESTION_KINDS)}{did_you_mean(n, list(SUGGESTION_KINDS))}" for n in unknown])
    return tuple(k for k in SUGGESTION_KINDS if k in names)


@dataclass
class _Suggestion:
    kind: str
    start: int  # the variation plays over [start, end)
    end: int
    expires: int  # KEEP before this adopts it
    adopt_at: int | None = None  # KEEP came during the variation: capture once it has played


class Session:
    """The player's feedback applied to the controls, the generator and the memory."""

    def __init__(self, config, memory, generator: Generator, *, seed: int | None = None):
        self.config = config
        self.memory = memory
        self.generator = generator
        self.sample_rate = config.audio.sample_rate
        self._rng = random.Random((generator.seed if seed is None else seed) * 7919 + 1)
        self._initial = {k: float(getattr(config.initial, k)) for k in CONTROLS}
        self._start = dict(self._initial)  # where the controls start: initial blended with taste
        self._values = dict(self._initial)
        self._taste = dict(DEFAULT_TASTE)
        self._touched: set[str] = set()  # controls the player moved: taste no longer moves them
        self._voice_levels: dict[str, float] = {}
        self._trimmed: dict[str, tuple[int, float]] = {}  # voice -> (when first trimmed lately, trim before)
        self._hold_tension = False
        self._playing = True
        self._join_now = False
        self._steps_at_join = 0
        self._taps: deque[int] = deque(maxlen=6)
        self.tap_tempo_bpm: float | None = None
        self.memory_problem: str | None = None
        self._suggestion: _Suggestion | None = None
        self._decided_boundary: int | None = None  # the phrase end a suggestion was last decided for
        self._offered_boundary: int | None = None  # the phrase end of the latest suggestion offered
        self._quiet_until = 0  # no suggestion before this (just after a KEEP)
        self._riff_id: tuple | None = None
        self._riff_start: int | None = None
        self._riff: str | None = None
        self._riff_checked = False
        self._taste_context: tuple | None = None
        self._kinds = suggestion_kinds(config.controls.suggestion_kinds)
        self._appetite = {k: NEUTRAL_APPETITE for k in SUGGESTION_KINDS}  # the taste's, for this meter and tempo
        self._saved_at: int | None = None  # stream time the session state was last saved
        self._news: list[str] = []  # said at the next tick (the resume)
        self.resumed: dict | None = None  # what was resumed from a stopped session, if anything
        self._kind_stats = {k: [0, 0] for k in SUGGESTION_KINDS}  # offered, adopted (this box, all sessions)
        if memory is not None and hasattr(memory, "suggestion_rates"):
            try:
                for k, r in memory.suggestion_rates().items():
                    if k in self._kind_stats:
                        self._kind_stats[k] = [int(r["offered"]), int(r["adopted"])]
            except JamboxError as e:
                log.error("memory: cannot read the suggestion history: %s", e)
        self._apply_taste(None, None)
        self._resume()
        self._controls = self._build()

    # -- reading ----------------------------------------------------------------------------------
    def controls(self) -> ControlState:
        return self._controls

    @property
    def suggestion_pending(self) -> bool:
        """The SUGGESTION LED: a variation is being tried and KEEP would adopt it."""
        return self._suggestion is not None and self._suggestion.adopt_at is None

    @property
    def riff(self) -> str | None:
        """The current riff's fingerprint (None until a loop has been heard, or without memory)."""
        return self._riff

    def settings(self, heard: Heard | None = None) -> dict:
        """The controls in force, as the memory stores them. The taste qualities (syncopation,
        busyness, keys density) are not among them: the memory learns those from what was kept,
        measured, not from what the box was asked for."""
        s = {k: round(v, 4) for k, v in self._values.items()}
        s["hold_tension"] = self._hold_tension
        s["voice_levels"] = {k: round(v, 4) for k, v in sorted(self._voice_levels.items())}
        s["playing"] = self._playing
        if heard is not None:
            s["meter"] = list(heard.meter)
            s["tempo_bpm"] = None if heard.tempo_bpm is None else round(heard.tempo_bpm, 2)
        return s

    # -- actions ----------------------------------------------------------------------------------
    def apply(self, action: Action, now: int, heard: Heard) -> str:
        """Apply one action; returns a short description of its effect (recorded in the memory)."""
        kind = action.kind
        s = self._suggestion
        if kind in PUSHBACK and s is not None and s.adopt_at is None and now >= s.start:
            self._news.append(f"{self._drop_suggestion(heard, kind.value)} (pushed back with {kind.value})")
        handler = {
            ActionKind.KEEP: self._keep, ActionKind.SOFTER: self._softer, ActionKind.SOFTER_ALL: self._softer_all,
            ActionKind.MORE_DISSONANCE: self._more_dissonance, ActionKind.RESOLVE: self._resolve,
            ActionKind.LET_GO: self._let_go, ActionKind.START_STOP: self._start_stop,
            ActionKind.JOIN_NOW: self._join, ActionKind.TAP: self._tap, ActionKind.SET: self._set,
        }[kind]
        effect = handler(action, now, heard)
        self._controls = self._build()
        if self.memory is not None:
            self._save_state(now, heard)  # buffered: it commits with the action, in the same transaction
            if not self._remember("record_action", kind.value, source=action.source, stream_time=now,
                                  control=action.control, value=action.value, effect=effect,
                                  settings=self.settings(heard), riff=self._riff):
                effect += " (not saved: the state file failed)"
        log.info("%s: %s", kind.value, effect)
        return effect

    def _save_state(self, now: int, heard: Heard) -> None:
        """The session's state for a restart (:meth:`_resume` reads it back)."""
        self._saved_at = now
        self._remember("save_session_state", {"settings": self.settings(heard), "riff": self._riff,
                                              "holding": self.generator.holding, "stream_time": now})

    def _remember(self, method: str, *args, **kwargs) -> bool:
        """One write to the memory; False (logged, and kept in :attr:`memory_problem`) if it failed or
        there is no memory. The music never waits on, or stops for, the state file."""
        if self.memory is None:
            return False
        try:
            getattr(self.memory, method)(*args, **kwargs)
            return True
        except JamboxError as e:
            log.error("memory: %s failed: %s", method, e)
            self.memory_problem = str(e)
            return False

    def _set(self, action: Action, now: int, heard: Heard) -> str:
        name, value = action.control, float(action.value)
        old = self._values[name]
        self._values[name] = value
        self._touched.add(name)
        return f"{name} {old:.2f} -> {value:.2f}"

    def _softer(self, action: Action, now: int, heard: Heard) -> str:
        prom = self._effective_prominence(now, heard)
        candidates = [v for v in PROMINENCE_VOICES if self._voice_levels.get(v, 1.0) > 0.0]
        if not candidates:
            return "everything is already at its softest"
        voice = max(candidates, key=lambda v: (prom.get(v, 0.0), v == "snare"))
        if prom.get(voice, 0.0) <= 0.0:
            voice = "snare" if "snare" in candidates else candidates[0]  # nothing played yet: the snare
        old = self._voice_levels.get(voice, 1.0)
        new = round(max(0.0, old - SOFTER_STEP), 4)
        self._voice_levels[voice] = new
        if voice not in self._trimmed or now - self._trimmed[voice][0] > self._bar_samples(heard):
            self._trimmed[voice] = (now, old)
        return f"{voice} softer ({old:.1f} -> {new:.1f})"

    def _effective_prominence(self, now: int, heard: Heard) -> dict[str, float]:
        """The generator's measure of the last bar, corrected for trims made within that bar (it
        has not heard them yet): a voice just pulled back counts as it will sound, so quick presses
        move on to the next most prominent voice."""
        prom = self.generator.prominence()
        bar = self._bar_samples(heard)
        for voice, (t, before) in self._trimmed.items():
            if now - t <= bar and before > 0:
                prom[voice] = prom.get(voice, 0.0) * (self._voice_levels.get(voice, 1.0) / before) ** TRIM_EXPONENT
        return prom

    def _bar_samples(self, heard: Heard) -> float:
        if heard.beat_period is None:
            return 2.0 * self.sample_rate
        return heard.beat_period * heard.meter[0]

    def _softer_all(self, action: Action, now: int, heard: Heard) -> str:
        old = self._values["level"]
        new = round(max(0.0, old - SOFTER_ALL_STEP), 4)
        self._values["level"] = new
        self._touched.add("level")
        return f"everything softer (level {old:.2f} -> {new:.2f})"

    def _more_dissonance(self, action: Action, now: int, heard: Heard) -> str:
        old = self._values["dissonance"]
        new = round(min(1.0, old + DISSONANCE_STEP), 4)
        self._values["dissonance"] = new
        self._hold_tension = True
        self._touched.add("dissonance")
        return f"more dissonance ({old:.2f} -> {new:.2f}), held until resolve"

    def _resolve(self, action: Action, now: int, heard: Heard) -> str:
        old = self._values["dissonance"]
        new = min(old, self._start["dissonance"])
        self._values["dissonance"] = new
        was_held = self._hold_tension
        self._hold_tension = False
        return f"resolved (dissonance {old:.2f} -> {new:.2f}){', hold released' if was_held else ''}"

    def _keep(self, action: Action, now: int, heard: Heard) -> str:
        s = self._suggestion
        if s is not None and s.adopt_at is None:
            if now < s.end:  # still playing: keep it once it has been heard through
                s.adopt_at = s.end + int(self._step_samples(heard) or 0) + 1
                return f"adopting the {s.kind} once it has played"
            return self._adopt(now, heard)
        pattern = self.generator.current_pattern(heard)
        if pattern is None:
            return "nothing playing to keep yet"
        self._hold(pattern, heard)
        self._quiet_until = now + self._phrase_samples(heard)  # let the player enjoy what they kept
        return f"kept drums and keys for this riff ({pattern['loop_steps']} steps)"

    def _adopt(self, now: int, heard: Heard) -> str:
        s = self._suggestion
        self._suggestion = None
        self._kind_stats[s.kind][1] += 1
        self._remember("record_suggestion", self._riff, s.kind, True, self.settings(heard), how="keep")
        pattern = self.generator.current_pattern(heard)
        if pattern is not None:
            self._hold(pattern, heard)
        return f"suggestion adopted: {s.kind}"

    def _hold(self, pattern: dict, heard: Heard) -> None:
        self.generator.hold_pattern(pattern, heard)
        qualities = pattern_qualities(pattern)
        for part in PARTS:
            self._remember("save_kept", self._riff, part, part_of(pattern, part),
                           {**self.settings(heard), **qualities.get(part, {})})

    def _let_go(self, action: Action, now: int, heard: Heard) -> str:
        if self._suggestion is not None:
            return self._drop_suggestion(heard, "let_go")
        if self.generator.holding:
            self.generator.hold_pattern(None)
            if hasattr(self.memory, "let_go_kept"):
                self._remember("let_go_kept", self._riff)
            return "let go of the kept pattern"
        return "nothing to let go"

    def _drop_suggestion(self, heard: Heard, how: str) -> str:
        """Let the pending suggestion go; ``how``: the action that did it, "expired" or "new_riff"."""
        s = self._suggestion
        self._suggestion = None
        self.generator.cancel_variation()
        self._remember("record_suggestion", self._riff, s.kind, False, self.settings(heard), how=how)
        return f"suggestion let go: {s.kind}"

    def _start_stop(self, action: Action, now: int, heard: Heard) -> str:
        self._playing = not self._playing
        if not self._playing:
            self._join_now = False
        return "playing" if self._playing else "stopped"

    def _join(self, action: Action, now: int, heard: Heard) -> str:
        self._join_now = True
        self._playing = True
        self._steps_at_join = self.generator.steps_planned
        return "joining at the next downbeat"

    def _tap(self, action: Action, now: int, heard: Heard) -> str:
        if self._taps and not TAP_MIN_S * self.sample_rate <= now - self._taps[-1] <= TAP_MAX_S * self.sample_rate:
            self._taps.clear()
        self._taps.append(now)
        if len(self._taps) < 3:
            return f"tap {len(self._taps)}"
        gaps = sorted(b - a for a, b in zip(self._taps, list(self._taps)[1:]))
        median = gaps[len(gaps) // 2]
        self.tap_tempo_bpm = round(60.0 * self.sample_rate / median, 1)
        return f"tap tempo {self.tap_tempo_bpm:.1f} bpm"

    # -- time -------------------------------------------------------------------------------------
    def tick(self, now: int, heard: Heard) -> list[str]:
        """Time-based behaviour, every hop; returns what happened (for the log and the summary)."""
        events: list[str] = self._news
        self._news = []
        if self._join_now and self.generator.steps_planned != self._steps_at_join:
            self._join_now = False  # the box has come in: a later return waits for the loop again
            self._controls = self._build()
        try:
            self._follow_context(heard, events)
            self._follow_riff(now, heard, events)
            if self._playing:
                self._run_suggestions(now, heard, events)
            if self.memory is not None and (self._saved_at is None or now - self._saved_at >= HEARTBEAT_S * self.sample_rate):
                self._save_state(now, heard)
        except JamboxError as e:  # the memory failed: the music goes on, the problem is reported
            log.error("session: %s", e)
            events.append(f"error: {e}")
        return events

    def _follow_context(self, heard: Heard, events: list[str]) -> None:
        """Re-blend the taste when the meter or tempo becomes known (or changes range)."""
        if self.memory is None or heard.tempo_bpm is None:
            return
        from jambox.memory.taste import tempo_range

        context = (tuple(heard.meter), tempo_range(heard.tempo_bpm))
        if context == self._taste_context:
            return
        self._taste_context = context
        if self._apply_taste(tuple(heard.meter), heard.tempo_bpm):
            self._controls = self._build()
            events.append(f"taste for {heard.meter[0]}/{heard.meter[1]} at {heard.tempo_bpm:.0f} bpm applied")

    def _apply_taste(self, meter, tempo) -> bool:
        if self.memory is None:
            return False
        taste = self.memory.taste(meter, tempo) or {}
        weight = self.config.memory.taste_weight
        appetites = [k for k in SUGGESTION_KINDS if appetite_key(k) in taste]
        for k in appetites:  # shrunk toward neutral by their own prior: no confidence factor on top
            self._appetite[k] = NEUTRAL_APPETITE + weight * (float(taste[appetite_key(k)]) - NEUTRAL_APPETITE)
        conf = float(taste.get("confidence", 0.0))
        if conf <= 0.0:
            return bool(appetites)
        pull = weight * min(1.0, conf)
        for k in CONTROLS:
            if k in taste:
                self._start[k] = self._initial[k] + pull * (float(taste[k]) - self._initial[k])
                if k not in self._touched:
                    self._values[k] = self._start[k]
        for k in TASTE_FIELDS:
            if k in taste:
                self._taste[k] = DEFAULT_TASTE[k] + pull * (float(taste[k]) - DEFAULT_TASTE[k])
        return True

    def _resume(self) -> None:
        """Pick up a session that stopped without ending a little while ago (see the module docstring)."""
        within = float(self.config.memory.resume_within_s)
        if self.memory is None or within <= 0 or not hasattr(self.memory, "resumable_state"):
            return
        try:
            found = self.memory.resumable_state(within)
        except JamboxError as e:
            log.error("memory: cannot read the last session's state: %s", e)
            return
        if not found:
            return
        state = found["state"] if isinstance(found.get("state"), dict) else {}
        settings = state.get("settings") if isinstance(state.get("settings"), dict) else {}
        restored = []
        for k in CONTROLS:
            v = settings.get(k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                continue
            self._values[k] = min(1.0, max(0.0, float(v)))
            self._touched.add(k)  # the player's setting: the taste and a recalled pattern leave it be
            if abs(self._values[k] - self._start[k]) > 1e-6:
                restored.append(f"{k} {self._values[k]:.2f}")
        if settings.get("hold_tension") is True:
            self._hold_tension = True
            restored.append("tension held")
        levels = settings.get("voice_levels")
        for voice, v in (levels.items() if isinstance(levels, dict) else ()):
            if voice in PROMINENCE_VOICES and isinstance(v, (int, float)) and not isinstance(v, bool):
                self._voice_levels[voice] = min(1.0, max(0.0, float(v)))
                if self._voice_levels[voice] < 1.0:
                    restored.append(f"{voice} {self._voice_levels[voice]:.1f}")
        self.resumed = {"age_s": found["age_s"], "session_id": found["session_id"], "settings": settings,
                        "riff": state.get("riff"), "holding": bool(state.get("holding"))}
        said = (f"resumed the session that stopped {found['age_s']:.0f} s ago: {', '.join(restored) or 'as it started'}"
                + ("; its kept loop comes back when the riff is heard" if self.resumed["holding"] else ""))
        log.warning("%s", said)
        self._news.append(said)

    def _follow_riff(self, now: int, heard: Heard, events: list[str]) -> None:
        """A new riff lets the kept pattern go; once its loop is heard, a pattern kept for it before
        is recalled."""
        ident = self._riff_identity(heard)
        if ident is None:
            return  # no loop heard (yet, or for a moment): nothing changes
        start = heard.section_start if heard.section_start is not None else heard.loop_start
        # The listener re-places its old beats as its tempo estimate settles, so the section start
        # drifts a little from hop to hop; a new riff moves it by bars at once.
        moved = self._riff_start is not None and abs(start - self._riff_start) > self._bar_samples(heard) / 2
        self._riff_start = start
        if self._riff_id is not None and (moved or ident[1] != self._riff_id[1]):  # a new riff (or meter)
            if self._suggestion is not None:
                events.append(self._drop_suggestion(heard, "new_riff"))
            if self.generator.holding:
                self.generator.hold_pattern(None)
                events.append("new riff: the kept pattern is let go")
            self._riff = None
            self._riff_checked = False
        elif ident != self._riff_id:  # the first loop heard, or the same riff heard as a longer loop
            self._riff_checked = False
        self._riff_id = ident
        if self._riff_checked:
            return
        loop_len = self._loop_samples(heard)
        if loop_len is None or now < heard.loop_start + loop_len:
            return
        self._riff_checked = True
        if self.memory is None:
            return
        from jambox.memory.fingerprint import riff_fingerprint

        notes = [n for n in heard.notes if n.onset >= now - loop_len - self._step_samples(heard)]
        try:
            self._riff = riff_fingerprint(notes, heard.beat_period, heard.loop_bars, heard.meter)
        except JamboxError as e:
            log.info("no fingerprint for this riff: %s", e)
            return
        recalled = self.memory.recall(self._riff)
        if not recalled or not recalled.get("parts"):
            return
        parts = recalled["parts"]
        try:
            self.generator.hold_pattern(merge_parts([parts[p]["pattern"] for p in PARTS if p in parts]), heard)
        except JamboxError as e:
            events.append(f"the kept pattern for this riff cannot be played: {e}")
            return
        restored = self._restore_settings([parts[p].get("settings") or {} for p in PARTS if p in parts])
        self._controls = self._build()
        events.append(f"recalled the kept {' and '.join(p for p in PARTS if p in parts)} for this riff"
                      + (" (a similar riff)" if recalled.get("match") == "similar" else "")
                      + (f", with {', '.join(restored)} as kept" if restored else ""))

    def _restore_settings(self, kept: list[dict]) -> list[str]:
        """The knobs as they were when the pattern was kept (those the player has not moved this
        session): the kept sound includes them, the dissonance colouring the chords most of all."""
        restored = []
        for settings in kept:
            for k in CONTROLS:
                v = settings.get(k)
                if k in self._touched or isinstance(v, bool) or not isinstance(v, (int, float)):
                    continue
                v = min(1.0, max(0.0, float(v)))
                if abs(v - self._values[k]) > 1e-6:
                    self._values[k] = v
                    if k not in restored:
                        restored.append(k)
            if settings.get("hold_tension") is True and "dissonance" not in self._touched:
                self._hold_tension = True
        return restored

    def _riff_identity(self, heard: Heard) -> tuple | None:
        if heard.loop_bars is None or heard.loop_start is None or heard.beat_period is None:
            return None
        return (heard.loop_bars, tuple(heard.meter))

    def _run_suggestions(self, now: int, heard: Heard, events: list[str]) -> None:
        s = self._suggestion
        if s is not None:
            if s.adopt_at is not None and now >= s.adopt_at:
                s.adopt_at = None
                events.append(self._adopt(now, heard))
            elif s.adopt_at is None and now >= s.expires:
                events.append(self._drop_suggestion(heard, "expired"))
            return
        if (not self.config.controls.suggestions or not self._kinds or self.generator.steps_planned == 0
                or now < self._quiet_until):
            return
        loop_len = self._loop_samples(heard)
        step = self._step_samples(heard)
        if loop_len is None or step is None:
            return
        bar = loop_len / heard.loop_bars
        phrase = phrase_bars(heard.loop_bars) * bar
        boundary = int(round(heard.loop_start + math.ceil((now - heard.loop_start) / phrase) * phrase))
        lead = (self.config.generator.steps_ahead + 2) * step
        start_fill = boundary - (bar if heard.loop_bars >= 2 else bar / 2)
        # The odd bar is a whole bar of the listener's grid (the authority: its downbeat is where the
        # generator counts the bar from), the one nearest the phrase's last: from half a step before
        # its first step to half a step before the next downbeat.
        odd_start = self._bar_start_near(heard, boundary - bar) - step / 2
        earliest = min(odd_start, start_fill)
        if not earliest - lead - 4 * step <= now <= earliest - lead:
            return  # decide just before the variation's first step is planned
        if self._decided_boundary is not None and abs(boundary - self._decided_boundary) < step:
            return
        self._decided_boundary = boundary
        if self._offered_boundary is not None and abs(boundary - phrase - self._offered_boundary) < step:
            return  # not two phrases in a row
        if self._rng.random() >= SUGGESTION_RATE * self._values["surprise"]:
            return
        kinds = list(self._kinds)
        kind = self._rng.choices(kinds, weights=[self._kind_weight(k) for k in kinds])[0]
        self._kind_stats[kind][0] += 1
        start, end = {"break": (boundary - heard.beat_period * 2, boundary),
                      "odd_bar": (odd_start, odd_start + bar)}.get(kind, (start_fill, boundary))
        crash_at = odd_start + bar + step / 2 if kind == "odd_bar" else None  # on the next downbeat
        self.generator.offer_variation(kind, int(start), int(end), None if crash_at is None else int(crash_at))
        end = max(int(end), boundary)
        self._suggestion = _Suggestion(kind, int(start), end, int(end + bar))
        self._offered_boundary = boundary
        events.append(f"suggestion offered: {kind}")

    @staticmethod
    def _bar_start_near(heard: Heard, t: float) -> float:
        """The listener's downbeat nearest ``t`` (``t`` itself while it has no downbeat)."""
        if heard.downbeat is None or heard.beat_period is None:
            return t
        bar = heard.beat_period * heard.meter[0]
        return heard.downbeat + round((t - heard.downbeat) / bar) * bar

    def _kind_weight(self, kind: str) -> float:
        """How often to try a kind: its base share, times how well the player has taken to it (the
        adoption rate with one adopted and one let go assumed, so an untried kind still comes up),
        times the taste's appetite for it in this meter and tempo range (neutral: 1)."""
        offered, adopted = self._kind_stats[kind]
        return SUGGESTION_KINDS[kind] * (0.25 + (adopted + 1) / (offered + 2)) * (0.25 + 1.5 * self._appetite[kind])

    def _phrase_samples(self, heard: Heard) -> float:
        loop = self._loop_samples(heard)
        if loop is None:
            return 4 * self._bar_samples(heard)
        return loop * phrase_bars(heard.loop_bars) / heard.loop_bars

    def _loop_samples(self, heard: Heard) -> float | None:
        if heard.loop_bars is None or heard.loop_start is None or heard.beat_period is None:
            return None
        return heard.loop_bars * heard.meter[0] * heard.beat_period

    def _step_samples(self, heard: Heard) -> float | None:
        if heard.beat_period is None:
            return None
        return heard.beat_period / (4 if heard.meter[1] == 4 else 2)

    # -- the state the generator reads ------------------------------------------------------------
    def _build(self) -> ControlState:
        v = self._values
        return ControlState(
            energy=v["energy"], dissonance=v["dissonance"], surprise=v["surprise"], level=v["level"],
            drums_level=v["drums_level"], keys_level=v["keys_level"], hold_tension=self._hold_tension,
            voice_levels=tuple(sorted(self._voice_levels.items())),
            taste=tuple(self._taste[k] for k in TASTE_FIELDS), playing=self._playing, join_now=self._join_now,
        )
