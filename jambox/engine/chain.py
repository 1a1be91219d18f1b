"""The whole box minus the sound card: listener, session, generator and performer on one clock.

Two threads touch a Chain in live mode (and one, in turn, offline):
- the logic thread calls :meth:`feed` with each hop of input: the listener hears it, due actions are
  applied, the join policy decides whether the box plays, and the generator plans ahead;
- the renderer calls :meth:`render` for a block of output, which the performer fills.
Control inputs on any thread call :meth:`submit`, which only puts the action on a queue.
"""

from __future__ import annotations

import logging
import queue
from dataclasses import dataclass, field

import numpy as np

from jambox.controls.actions import Action
from jambox.engine.join import JoinPolicy, bar_samples
from jambox.events import Beat, Heard, Note, Onset, PlayedNote

log = logging.getLogger(__name__)


@dataclass
class ChainRecord:
    """What happened, for summaries and tests (the logic thread appends; nobody else writes)."""

    notes: dict[int, Note] = field(default_factory=dict)  # by onset: the latest version of each note
    onsets: list[Onset] = field(default_factory=list)
    beats: list[Beat] = field(default_factory=list)
    played: list[PlayedNote] = field(default_factory=list)
    actions: list[tuple[int, Action, str]] = field(default_factory=list)  # (applied at, action, effect)
    joins: list[tuple[int, str]] = field(default_factory=list)  # (stream time, "joined"/"stopped")
    session_events: list[tuple[int, str]] = field(default_factory=list)  # suggestions offered, adopted, let go


class Chain:
    def __init__(self, config, *, model, memory=None, seed: int = 0, performer=None):
        from jambox.generate import Generator
        from jambox.listen import Listener
        from jambox.perform.performer import Performer
        from jambox.session import Session

        self.config = config
        self.sample_rate = config.audio.sample_rate
        self.listener = Listener(self.sample_rate, config.listener)
        self.hop_size = self.listener.hop_size
        self.generator = Generator(model, self.sample_rate, seed, keys_channel=config.performer.midi_keys_channel - 1)
        self.memory = memory
        self.session = Session(config, memory, self.generator)
        self.performer = performer if performer is not None else Performer(self.sample_rate, config.performer)
        self.join = JoinPolicy(config.generator.join_after_loops, config.generator.stop_after_silent_bars)
        self.steps_ahead = config.generator.steps_ahead
        self.now = 0  # stream samples heard so far
        self.heard: Heard = self.listener.heard()
        self.record = ChainRecord()
        self._inbox: queue.SimpleQueue[Action] = queue.SimpleQueue()
        self._due: list[Action] = []  # actions whose time has not come yet, sorted by time

    # -- any thread ---------------------------------------------------------------------------
    def submit(self, action: Action) -> None:
        """Queue an action (a button press, a knob, an events-file entry). Never blocks."""
        self._inbox.put(action)

    # -- logic thread -------------------------------------------------------------------------
    def feed(self, hop: np.ndarray) -> list[PlayedNote]:
        """Hear one hop of input, apply due actions, and plan ahead. Returns the notes newly planned."""
        for ev in self.listener.process(hop):
            self._remember(ev)
        self.now += len(hop)
        self.heard = self.listener.heard()
        self._apply_due_actions()
        for event in self.session.tick(self.now, self.heard):
            self.record.session_events.append((self.now, event))
        return self._plan()

    def end_of_input(self, at: int) -> None:
        """The input ended at stream time ``at`` (offline: the file's end is the player stopping).

        The box stops with the player: nothing planned at or after ``at`` is played, and what sounds is released.
        """
        self.performer.all_notes_off()
        self.record.played = [n for n in self.record.played if n.time < at]
        if self.join.playing:
            self.join.stop()
            self.generator.reset()
            self.record.joins.append((at, "stopped"))

    def finish(self) -> None:
        for ev in self.listener.finish():
            self._remember(ev)
        self.heard = self.listener.heard()

    def _remember(self, ev) -> None:
        if isinstance(ev, Note):
            self.record.notes[ev.onset] = ev
        elif isinstance(ev, Onset):
            self.record.onsets.append(ev)
        elif isinstance(ev, Beat):
            self.record.beats.append(ev)

    def _apply_due_actions(self) -> None:
        while True:
            try:
                action = self._inbox.get_nowait()
            except queue.Empty:
                break
            self._due.append(action)
        if not self._due:
            return
        self._due.sort(key=lambda a: -1 if a.at is None else a.at)
        while self._due and (self._due[0].at is None or self._due[0].at <= self.now):
            action = self._due.pop(0)
            effect = self.session.apply(action, self.now, self.heard)
            self.record.actions.append((self.now, action, str(effect or "")))

    def _plan(self) -> list[PlayedNote]:
        controls = self.session.controls()
        self.performer.set_level(controls.level)
        decision = self.join.update(self.heard, self.now, enabled=controls.playing, join_now=controls.join_now)
        if decision.changed:
            self.record.joins.append((self.now, decision.changed))
            log.info("%s at sample %d", decision.changed, self.now)
            if decision.changed == "stopped":
                self.generator.reset()
                self.performer.all_notes_off()
        if not decision.playing:
            return []
        step = self.generator.step_samples(self.heard)  # a 16th: a quarter of the beat in x/4, half in x/8
        until = self.now + self.hop_size + int(self.steps_ahead * step)
        notes = self.generator.plan(self.heard, controls, self.now, until)
        if decision.join_at is not None:
            notes = [n for n in notes if n.time >= decision.join_at]
        if notes:
            self.performer.schedule(notes)
            self.record.played.extend(notes)
        return notes

    # -- renderer thread ----------------------------------------------------------------------
    def render(self, out: np.ndarray, start: int) -> None:
        self.performer.render(out, start)

    # -- any thread ---------------------------------------------------------------------------
    def bar_length(self) -> float | None:
        return bar_samples(self.heard)

    def stats(self) -> dict:
        return {
            "samples_heard": self.now,
            "notes_heard": len(self.record.notes),
            "notes_played": len(self.record.played),
            "actions_applied": len(self.record.actions),
            "playing": self.join.playing,
        }

    def close(self) -> None:
        self.performer.close()
