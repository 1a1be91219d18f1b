"""The runtime generator: steps the model on the heard grid and turns its answers into notes.

Called on the logic thread every listener hop (:meth:`Generator.plan`), it steps the model once per
16th-note step that starts before ``until`` and has not been planned yet, and returns the new
:class:`~jambox.events.PlayedNote` values: drums on the GM drum channel, keys on ``keys_channel``.
One step costs the same after an hour as after a bar: the model carries its recurrent state, the
bass input comes from a bounded look-up in the notes heard, and the history is a fixed ring.

What a step does, in order:

1. **Where it is** (:mod:`.grid`): the step's time on the latest heard grid (drift followed
   smoothly), its place in the bar and in the riff's loop.
2. **What the bass does there** (:mod:`.context`): heard, if the step is already past; else
   predicted from the riff one loop earlier; else unknown (the nets were trained with the bass
   dropped out, so they cope). It is read where the player puts the step (swing, feel).
3. **Conditioning** from the controls: energy and dissonance from the knobs (dissonance falls back
   towards consonance over the last half bar of a phrase unless the tension is held), syncopation,
   busyness and keys density from the taste vector, fill from a suggestion.
4. **The model step**, then **controlled sampling** (:mod:`.sampling`): the surprise knob sets
   temperature and top-p, and how strongly the box repeats what it played one loop ago (musicians
   lock into the riff's loop); levels and energy shift the hit logits and scale velocities
   (:mod:`.dynamics`: a softer part is sparser as well as quieter); the keys' attack rate and the
   time-keeping are held to the density and busyness asked for; the chord choice is steered by
   each chord's tension and kept off the riff's own notes at low dissonance (:mod:`.harmony`), and
   chords change only on beats or bass onsets; the voicing's colour tones follow the dissonance knob
   (:mod:`.voicing`).
5. **A kept pattern** (:meth:`hold_pattern`), if any, replaces what was sampled for its parts, with
   small human variation; the model keeps stepping on what was played, so letting go is seamless.
   A variation (:meth:`offer_variation`: a fill, a break, a chord substitution, an odd bar) overrides
   both for its stretch. The odd bar (:mod:`.odd_bar`) replaces the drums with accents on uneven
   groups (3+3+2 in 4/4) over a hi-hat that keeps the bar's own beats, and the keys with stabs on
   the same accents.
6. **Timing**: grid time + swing (the off-beat 8ths and 16ths delayed as the player swings) + the
   player's steady offset + the model's micro-timing; never before ``now``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jambox.controls.state import ControlState
from jambox.errors import ValueRangeError
from jambox.events import DRUM_CHANNEL, Heard, PlayedNote
from jambox.generate import features as F
from jambox.generate.context import BassAt, PlanContext
from jambox.generate.dynamics import (LOUDNESS, PROMINENCE_VOICES, VOICE_GROUP, density_bias, keeps, logit,
                                      part_gain, sigmoid, velocity_scale)
from jambox.generate.grid import GridStep, StepGrid
from jambox.generate.harmony import chord_tension_table, substitute
from jambox.generate.odd_bar import ACCENT_VELOCITY, FIRST_ACCENT_VELOCITY, PULSE_VELOCITY, STAB_VELOCITY, group_at
from jambox.generate.pattern import History, KeptPattern, best_rotation
from jambox.generate.sampling import Sampler, temperature, top_p
from jambox.generate.voicing import voice

# Order of ControlState.taste (the session fills it from the memory's taste).
TASTE_FIELDS = ("syncopation", "busyness", "keys_density")
# What plays when no taste is known. Busyness is the training bars' median (0.67). Syncopation is
# set well below Groove's median (0.61, its drummers' 16th-note ghost notes): at 0.2 the drum net
# puts half its snares on 2 and 4 with the kick on the bass (jambox bench generator), a groove to
# jam on; the taste moves it from there. Keys density likewise sits below POP909's 0.44 (arranged
# piano arpeggiating under a melody): a keys player comping with a bassist leaves room.
DEFAULT_TASTE = {"syncopation": 0.2, "busyness": 0.65, "keys_density": 0.3}

TENSION_GAIN = 6.0  # chord logit bias per unit of (dissonance - neutral) x chord tension
DISSONANCE_NEUTRAL = 0.3
RESOLVE_FACTOR = 0.2  # dissonance kept over a phrase end when the tension is not held
TONIC_PULL = 1.5  # chord logit bonus of the tonic at a phrase end (a cadence)
CLASH_GAIN = 8.0  # chord logit penalty per unit of clash with the riff, at dissonance 0 (none at 1)
REPEAT_GAIN = 2.0  # logit bonus of repeating what was played one loop ago, at surprise 0
CHORD_REPEAT = 0.5  # of REPEAT_GAIN for the chord: the harmony follows the bass more than the habit
CHORD_STAY = 0.3  # logit bonus of the chord already sounding at a change point (the nets hold chords too)
DENSITY_FOLLOW = 2.5  # keys: logit pull per unit of logit(target density) - logit(recent rate)
FOLLOW_MAX = 2.0
CHANGE_ATTACK = 3.0  # keys hit logit bonus when the chord changes (play the new chord)
HUMAN_VELOCITY = 0.03  # kept patterns: velocity jitter (0..1 scale), timing jitter (steps)
HUMAN_TIMING = 0.04
GHOST_DROP = 0.15  # kept patterns: chance that a ghost note (velocity < 0.35) is left out this time
VARIATIONS = ("fill", "break", "substitution", "odd_bar")
FILL_GAIN = 3.0  # logit shift at the end of a fill, times FILL_SHAPE per voice
FILL_SHAPE = (0.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0, -1.0, -1.0)  # by features.DRUM_VOICES
FILL_CRESCENDO = 0.25  # velocity rise over a fill
_KEEPERS = np.array(F.TIME_KEEPERS)
STRAIGHT = 0.5  # the swing the nets are conditioned on (see _step)


@dataclass(frozen=True, slots=True)
class Variation:
    """A suggestion being tried: ``kind`` over stream times [start, end); a crash lands at ``end``."""

    kind: str
    start: int
    end: int


def phrase_bars(loop_bars: int) -> int:
    """Bars in a phrase: the riff's loop, repeated up to about four bars (a 1-bar riff phrases in 4)."""
    return loop_bars * math.ceil(4 / loop_bars) if loop_bars < 3 else loop_bars


class Generator:
    """Drums and keys on the heard grid from the step model. See the module docstring."""

    def __init__(self, model, sample_rate: int, seed: int, *, keys_channel: int = 0):
        if not 0 <= keys_channel <= 15 or keys_channel == DRUM_CHANNEL:
            raise ValueRangeError(f"keys channel must be in range 0..15 and not the drum channel {DRUM_CHANNEL}, "
                                  f"not {keys_channel}")
        self.model = model
        self.sample_rate = int(sample_rate)
        self.seed = int(seed)
        self.keys_channel = keys_channel
        self.sampler = Sampler(seed)
        self.grid = StepGrid()
        self.history = History()
        self._drum_x = np.zeros((1, F.DRUM_IN), np.float32)
        self._harm_x = np.zeros((1, F.HARM_IN), np.float32)
        self._prev_hit = np.zeros(F.N_DRUMS, np.float32)
        self._prev_vel = np.zeros(F.N_DRUMS, np.float32)
        self._prev_off = np.zeros(F.N_DRUMS, np.float32)
        self._chord_bias = np.zeros(F.N_CHORDS, np.float64)
        self._prominence = np.zeros(len(PROMINENCE_VOICES), np.float64)
        self._held: KeptPattern | None = None
        self._held_rotation = 0
        self._variation: Variation | None = None
        self._crash_due: int | None = None
        self._reset_step_state()

    # -- lifecycle ------------------------------------------------------------------------------
    def _reset_step_state(self) -> None:
        self.model.reset_state()
        self.grid.reset()
        self.history.clear()
        self._prev_hit[:] = 0.0
        self._prev_vel[:] = 0.0
        self._prev_off[:] = 0.0
        self._prev_chord = F.NO_CHORD
        self._prev_voicing = F.ROOT_POSITION
        self._prev_keys_hit = False
        self._prev_keys_vel = 0.0
        self._last_voicing: tuple[int, ...] = ()
        self._keys_rate = DEFAULT_TASTE["keys_density"]
        self._keeper_rate = DEFAULT_TASTE["busyness"]
        self._prominence[:] = 0.0
        self._variation = None
        self._crash_due = None
        self.steps_planned = 0

    def reset(self) -> None:
        """Back to the initial state (the player stopped). A kept pattern stays kept: it belongs to
        the riff, and the session lets it go when the riff changes."""
        self._reset_step_state()

    # -- what the session uses -----------------------------------------------------------------
    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold_pattern(self, pattern: dict | None, heard: Heard | None = None) -> None:
        """Play ``pattern`` (a kept-pattern dict, see :mod:`jambox.generate.pattern`) from the next
        step, with small human variation; None lets go (the model generates again). With ``heard``,
        the pattern is lined up with the riff heard now (a recalled pattern's loop may start on
        another bar)."""
        if pattern is None:
            self._held = None
            self._held_rotation = 0
            return
        kept = KeptPattern.from_dict(pattern)
        rotation = 0
        if heard is not None and kept.bass:
            loop_steps, _ = self._loop_geometry(heard)
            riff = self.riff_outline(heard)
            if loop_steps == kept.loop_steps and riff:
                rotation = best_rotation(kept.bass, riff, loop_steps)
        self._held = kept
        self._held_rotation = rotation

    def current_pattern(self, heard: Heard) -> dict | None:
        """What is playing now, one loop of the riff, as a JSON-able kept-pattern dict (None before
        anything has played)."""
        loop_steps, _ = self._loop_geometry(heard)
        meter = self.grid_meter(heard)
        return self.history.pattern(loop_steps, meter, self.riff_outline(heard))

    def offer_variation(self, kind: str, start: int, end: int, crash_at: int | None = None) -> None:
        """Try a variation over stream times [start, end) (a suggestion); after a fill, a break or an
        odd bar a crash lands on the step at ``crash_at`` (default ``end``)."""
        if kind not in VARIATIONS:
            raise ValueRangeError(f"variation must be one of {', '.join(VARIATIONS)}, not {kind!r}")
        if end <= start:
            raise ValueRangeError(f"a variation must end after it starts, not {start}..{end}")
        self._variation = Variation(kind, int(start), int(end))
        self._crash_due = int(end if crash_at is None else crash_at) if kind in ("fill", "break", "odd_bar") else None

    def cancel_variation(self) -> None:
        self._variation = None
        self._crash_due = None

    @property
    def variation(self) -> Variation | None:
        return self._variation

    def prominence(self) -> dict[str, float]:
        """How much each voice stands out lately: loudness-weighted velocity x hits over about a bar."""
        return {v: float(self._prominence[i]) for i, v in enumerate(PROMINENCE_VOICES)}

    @staticmethod
    def step_samples(heard: Heard) -> float | None:
        """Samples per generator step on the heard grid (a 16th: beat/4 in x/4, beat/2 in x/8)."""
        from jambox.generate.grid import step_period

        return step_period(heard)

    @staticmethod
    def grid_meter(heard: Heard) -> tuple[int, int]:
        from jambox.generate.grid import heard_meter

        m = heard_meter(heard)
        return (m.numerator, m.denominator)

    def riff_outline(self, heard: Heard) -> list[list[int]]:
        """The riff's last loop as [step in loop, pitch relative to the lowest note] pairs."""
        loop_steps, period = self._loop_geometry(heard)
        if period is None or heard.loop_start is None or not heard.notes:
            return []
        loop_len = loop_steps * period
        last = heard.notes[-1].onset
        start = heard.loop_start + math.floor((last - heard.loop_start) / loop_len) * loop_len
        if start > last - 0.5 * loop_len:
            start -= loop_len  # the latest complete loop
        notes = [n for n in heard.notes if start <= n.onset < start + loop_len]
        if not notes:
            return []
        low = min(n.pitch for n in notes)
        return [[int(round((n.onset - heard.loop_start) / period)) % loop_steps, n.pitch - low] for n in notes]

    # -- planning -------------------------------------------------------------------------------
    def plan(self, heard: Heard, controls: ControlState, now: int, until: int) -> list[PlayedNote]:
        """Step the model for every step starting before ``until`` not yet planned; the new notes."""
        if not controls.playing or heard.beat_period is None:
            return []
        out: list[PlayedNote] = []
        ctx = None
        while True:
            step = self.grid.next_step(heard, now, until)
            if step is None:
                break
            if ctx is None:
                ctx = PlanContext(heard, self.sample_rate)
            self._step(step, heard, controls, now, ctx, out)
        return out

    def _loop_geometry(self, heard: Heard) -> tuple[int, float | None]:
        from jambox.generate.grid import heard_meter, step_period

        meter = heard_meter(heard)
        bars = heard.loop_bars or 1
        return max(1, min(bars * meter.bar_steps, self.history.capacity)), step_period(heard, meter)

    def _loop_pos(self, step: GridStep, heard: Heard, loop_steps: int) -> int:
        if heard.loop_bars and heard.loop_start is not None:
            return int(round((step.time - heard.loop_start) / step.period)) % loop_steps
        return step.step_in_bar % loop_steps

    def _phrase_end(self, step: GridStep, heard: Heard) -> bool:
        """In the last half bar of a phrase (the riff's loop, grouped to about four bars)."""
        phrase = phrase_bars(heard.loop_bars or 1)
        bar_len = step.period * step.meter.bar_steps
        origin = heard.loop_start if (heard.loop_bars and heard.loop_start is not None) else None
        if origin is not None:
            bar = math.floor((step.time - origin) / bar_len + 1e-6)
        else:
            bar = step.bar_index
        return bar % phrase == phrase - 1 and step.step_in_bar >= step.meter.bar_steps // 2

    def _step(self, step: GridStep, heard: Heard, c: ControlState, now: int, ctx: "PlanContext",
              out: list[PlayedNote]) -> None:
        meter = step.meter
        period = step.period
        loop_steps, _ = self._loop_geometry(heard)
        loop_pos = self._loop_pos(step, heard, loop_steps)
        # The bass is read where the player puts this step: the grid swung and moved by the feel.
        spb = meter.steps_per_beat
        grid_shift = ctx.swing_shift(step.step_in_beat, spb, period, ctx.swing) + ctx.feel
        next_shift = ctx.swing_shift((step.step_in_beat + 1) % spb, spb, period, ctx.swing) + ctx.feel
        bass = ctx.bass_at(step.time + grid_shift, period, now, heard)
        bass_next = ctx.bass_at(step.time + period + next_shift, period, now, heard)
        key = ctx.key
        minor = key[1] if key else heard.key_mode == "minor"
        bass_pc_rel = None if (key is None or bass.pitch is None) else (bass.pitch - key[0]) % 12
        var = self._variation
        in_var = var is not None and var.start <= step.time < var.end
        if var is not None and step.time >= var.end:
            self._variation = var = None
            in_var = False
        taste = dict(DEFAULT_TASTE)
        for name, value in zip(TASTE_FIELDS, c.taste):
            taste[name] = float(value)
        resolving = not c.hold_tension and self._phrase_end(step, heard)
        dissonance = c.dissonance * (RESOLVE_FACTOR if resolving else 1.0)
        fill = 1.0 if in_var and var.kind == "fill" else 0.0
        fill_progress = (step.time - var.start) / max(1.0, var.end - var.start) if fill else 0.0
        tempo = heard.tempo_bpm or 60.0 * self.sample_rate / heard.beat_period

        # The nets are told the grid is straight and the swing is applied afterwards, as a warp of the
        # grid (swing_shift): in training the offsets are measured from the straight grid, so a swung
        # net would move off-beats by itself and the warp would swing them twice.
        F.encode_drum_step(self._drum_x, meter, step.step_in_bar, tempo, STRAIGHT, bass.onset, bass.velocity,
                           bass.offset, bass.known, bass_next.onset, c.energy, taste["syncopation"],
                           taste["busyness"], fill, self._prev_hit, self._prev_vel, self._prev_off)
        F.encode_harm_step(self._harm_x, meter, step.step_in_bar, tempo, STRAIGHT, bass.onset, bass.velocity,
                           bass.known, bass_next.onset, bass_pc_rel, minor, dissonance, taste["keys_density"],
                           c.energy, self._prev_chord, self._prev_voicing, self._prev_keys_hit, self._prev_keys_vel)
        y = self.model.step(self._drum_x, self._harm_x)

        temp = temperature(c.surprise)
        nucleus = top_p(c.surprise)
        row = self.history.slot()
        h = self.history
        h.loop_pos[row] = loop_pos
        # Musicians lock into the riff's loop: what was played here one loop ago is favoured (and what
        # was not, disfavoured), less so the more surprise is asked for.
        ago = h.loop_ago(loop_steps, loop_pos)
        repeat = REPEAT_GAIN * (1.0 - c.surprise) if ago is not None else 0.0
        held = self._held
        held_pos = None if held is None else (loop_pos - self._held_rotation) % held.loop_steps

        info = _StepInfo(step, c, now, ctx, heard, row, bass, key, minor, bass_pc_rel, var if in_var else None, taste,
                         dissonance, resolving, fill_progress if fill else None, temp, nucleus, repeat, ago,
                         held, held_pos, grid_shift)
        self._drums(info, y, out)
        self._keys(info, y, out)
        h.commit()
        self.steps_planned += 1

    def _drums(self, s: "_StepInfo", y, out: list[PlayedNote]) -> None:
        """Sample (or replay) the drum hits of one step, apply the variation, and emit them."""
        step, c, now, ctx, row, h = s.step, s.c, s.now, s.ctx, s.row, self.history
        meter, period, held, held_pos, repeat, ago = step.meter, step.period, s.held, s.held_pos, s.repeat, s.ago
        var, taste, temp, grid_shift = s.variation, s.taste, s.temp, s.grid_shift
        in_var = var is not None
        fill = 1.0 if in_var and var.kind == "fill" else 0.0
        fill_progress = s.fill_progress or 0.0
        self._prominence *= math.exp(-1.0 / meter.bar_steps)
        crash_now = self._crash_due is not None and step.time >= self._crash_due - period / 2
        if crash_now:
            self._crash_due = None
        silent_break = in_var and var.kind == "break"
        odd = in_var and var.kind == "odd_bar"
        use_held_drums = held is not None and held.drums and not (in_var and var.kind in ("fill", "odd_bar"))
        # Time-keeping (hats, ride) settles at the busyness asked for, as the keys at their density.
        keeper_gain = part_gain(c, "drums", c.voice_level("hihat"))
        keeper_pull = 0.0
        if keeper_gain > 0.0:
            target = sigmoid(logit(taste["busyness"]) + density_bias(keeper_gain, c.energy))
            keeper_pull = max(-FOLLOW_MAX, min(FOLLOW_MAX, DENSITY_FOLLOW * (logit(target) - logit(self._keeper_rate))))
        hits = self._prev_hit
        hits[:] = 0.0
        self._prev_vel[:] = 0.0
        self._prev_off[:] = 0.0
        for v in () if odd else range(F.N_DRUMS):  # the odd bar's figure replaces what would play
            group = VOICE_GROUP[v]
            gain = part_gain(c, "drums", c.voice_level(group))
            bias = density_bias(gain, c.energy)
            if use_held_drums:
                if not held.hits[held_pos, v]:
                    continue
                p = float(held.prob[held_pos, v])
                if not keeps(p, float(held.u[held_pos, v]), bias):
                    continue
                vel01 = float(held.velocity[held_pos, v])
                if vel01 < 0.35 and self.sampler.uniform() < GHOST_DROP:
                    continue
                off = float(held.offset[held_pos, v])
                src = (vel01, off, p, float(held.u[held_pos, v]))
                vel01 = min(1.0, max(0.02, vel01 + self.sampler.normal(HUMAN_VELOCITY)))
                off = min(0.5, max(-0.5, off + self.sampler.normal(HUMAN_TIMING)))
            else:
                if repeat and not fill:
                    bias += repeat if h.hits[ago, v] else -0.5 * repeat
                if v in F.TIME_KEEPERS:
                    bias += keeper_pull
                if fill:  # a fill builds toward the downbeat: toms and snare take over from the cymbals
                    bias += FILL_GAIN * fill_progress * FILL_SHAPE[v]
                hit, p = self.sampler.hit(float(y.drum_hit_logits[v]), temp, bias)
                if not hit:
                    continue
                vel01 = min(1.0, max(0.02, float(y.drum_velocity[v])))
                off = min(0.5, max(-0.5, float(y.drum_offset[v])))
                src = (vel01, off, p, self.sampler.uniform())
            if v == F.CRASH and step.step_in_bar != 0:
                continue  # a crash belongs on a downbeat (the one after a fill gets one anyway)
            if fill:
                vel01 = min(1.0, vel01 * (1.0 + FILL_CRESCENDO * fill_progress))
            hits[v] = 1.0
            self._prev_vel[v] = vel01
            self._prev_off[v] = off
            h.velocity[row, v], h.offset[row, v], h.prob[row, v], h.u[row, v] = src
        if odd:
            self._odd_bar_drums(step, row)
        if silent_break:
            hits[:] = 0.0
            self._prev_vel[:] = 0.0
            self._prev_off[:] = 0.0
        if crash_now and part_gain(c, "drums") > 0:
            for v, vel01 in ((F.CRASH, 0.85), (F.KICK, 0.85)):
                if not hits[v]:
                    hits[v] = 1.0
                    self._prev_vel[v], self._prev_off[v] = vel01, 0.0
                    h.velocity[row, v], h.offset[row, v], h.prob[row, v], h.u[row, v] = vel01, 0.0, 1.0, 0.0
        # One hand keeps time: of the hi-hats and the ride sounding on one step, the loudest plays.
        keepers = [v for v in F.TIME_KEEPERS if hits[v]]
        if len(keepers) > 1:
            loudest = max(keepers, key=lambda v: self._prev_vel[v])
            for v in keepers:
                if v != loudest:
                    hits[v] = 0.0
                    self._prev_vel[v] = self._prev_off[v] = 0.0
        h.hits[row] = hits > 0
        self._keeper_rate += (float(hits[_KEEPERS].any()) - self._keeper_rate) / (2.0 * meter.bar_steps)
        for v in np.flatnonzero(hits).tolist():
            group = VOICE_GROUP[v]
            gain = part_gain(c, "drums", c.voice_level(group))
            vel = int(round(127 * self._prev_vel[v] * velocity_scale(gain, c.energy)))
            if vel < 1:
                continue
            t = step.time + grid_shift + self._prev_off[v] * period
            out.append(PlayedNote("drums", max(now, int(round(t))), ctx.drum_len, F.DRUM_PITCHES[v],
                                  min(127, vel), DRUM_CHANNEL, now))
            self._prominence[PROMINENCE_VOICES.index(group)] += LOUDNESS[group] * min(127, vel) / 127.0

    def _odd_bar_drums(self, step: GridStep, row: int) -> None:
        """One step of the odd bar: kick and snare together on each uneven group's start, a soft
        closed hi-hat on each of the bar's own beats. Drawn with certainty (p 1, u 0), so a kept
        odd bar comes back whole, thinned only as any kept hit is by a softer level."""
        h = self.history
        figure = []
        if group_at(step.meter, step.step_in_bar) is not None:
            accent = FIRST_ACCENT_VELOCITY if step.step_in_bar == 0 else ACCENT_VELOCITY
            figure += [(F.KICK, accent), (F.SNARE, accent)]
        if step.step_in_beat == 0:
            figure.append((F.CLOSED_HAT, PULSE_VELOCITY))
        for v, vel01 in figure:
            self._prev_hit[v] = 1.0
            self._prev_vel[v], self._prev_off[v] = vel01, 0.0
            h.velocity[row, v], h.offset[row, v], h.prob[row, v], h.u[row, v] = vel01, 0.0, 1.0, 0.0

    def _keys(self, s: "_StepInfo", y, out: list[PlayedNote]) -> None:
        """Choose (or replay) the chord, voicing and attack of one step, and emit the keys' notes."""
        step, c, now, ctx, row, h = s.step, s.c, s.now, s.ctx, s.row, self.history
        meter, period, held, held_pos, repeat, ago = step.meter, step.period, s.held, s.held_pos, s.repeat, s.ago
        var, taste, temp, nucleus, grid_shift = s.variation, s.taste, s.temp, s.nucleus, s.grid_shift
        key, minor, bass, bass_pc_rel, dissonance, resolving = s.key, s.minor, s.bass, s.bass_pc_rel, s.dissonance, s.resolving
        in_var = var is not None
        keys_gain = part_gain(c, "keys", c.voice_level("keys"))
        keys_bias = density_bias(keys_gain, c.energy)
        odd = in_var and var.kind == "odd_bar"
        odd_group = group_at(meter, step.step_in_bar) if odd else None  # a stab's length, on its group's start
        change_point = odd_group is not None if odd else (step.step_in_beat == 0 or bass.onset)
        use_held_keys = held is not None and held.keys
        if use_held_keys:
            chord = int(held.chord[held_pos])
            voicing = int(held.voicing[held_pos])
            attack = bool(held.keys_hit[held_pos]) and keeps(float(held.keys_prob[held_pos]),
                                                             float(held.keys_u[held_pos]), keys_bias)
            kvel = float(held.keys_velocity[held_pos])
            ksrc = (kvel, float(held.keys_prob[held_pos]), float(held.keys_u[held_pos]))
            kvel = min(1.0, max(0.02, kvel + self.sampler.normal(HUMAN_VELOCITY)))
        else:
            if change_point or self._prev_chord == F.NO_CHORD:
                bias = self._chord_bias
                np.multiply(chord_tension_table()[:, int(minor), 12 if bass_pc_rel is None else bass_pc_rel],
                            TENSION_GAIN * (dissonance - DISSONANCE_NEUTRAL), out=bias)
                if ctx.clash is not None:  # chords that rub against the riff's own notes, unless asked for
                    bias -= CLASH_GAIN * (1.0 - dissonance) * ctx.clash
                if self._prev_chord != F.NO_CHORD:
                    bias[self._prev_chord] += CHORD_STAY
                if repeat and h.chord[ago] != F.NO_CHORD:
                    bias[int(h.chord[ago])] += CHORD_REPEAT * repeat
                if resolving:
                    bias[F.chord_index(0, F.CHORD_QUALITIES.index("min" if minor else "maj"))] += TONIC_PULL
                chord = self.sampler.categorical(y.chord_logits, temp, nucleus, bias)
            else:
                chord = self._prev_chord
            hit_logit = y.keys_hit_logit + (CHANGE_ATTACK if chord != self._prev_chord and chord != F.NO_CHORD else 0.0)
            if repeat:
                hit_logit += repeat if h.keys_hit[ago] else -0.5 * repeat
            # The keys density asked for (taste, moved by level and energy as every hit is) is what
            # the comping settles at: the nets are conditioned on it, and a gentle pull on the attack
            # odds holds the last two bars' attack rate to it.
            if keys_bias > -math.inf:
                target = sigmoid(logit(taste["keys_density"]) + keys_bias)
                hit_logit += max(-FOLLOW_MAX, min(FOLLOW_MAX, DENSITY_FOLLOW * (logit(target) - logit(self._keys_rate))))
            attack, kp = self.sampler.hit(hit_logit, temp, keys_bias)
            voicing = self.sampler.categorical(y.voicing_logits, temp, nucleus) if attack else self._prev_voicing
            kvel = min(1.0, max(0.02, float(y.keys_velocity)))
            ksrc = (kvel, kp, self.sampler.uniform())
        if odd:  # a stab on each group's start, its chord held through the group
            if odd_group is None and self._prev_chord != F.NO_CHORD:
                chord = self._prev_chord
            attack = odd_group is not None
            if attack:
                kvel = max(kvel, STAB_VELOCITY)
                ksrc = (kvel, 1.0, 0.0)
        if in_var and var.kind == "substitution" and chord != F.NO_CHORD and change_point:
            chord = substitute(chord)
            attack = attack or chord != self._prev_chord
        if in_var and var.kind == "break" and step.time > var.start + period / 2:
            attack = False  # the break: one stab where it starts, then space
        if chord == F.NO_CHORD or key is None or keys_gain <= 0.0:
            attack = False
        h.chord[row] = chord
        h.voicing[row] = voicing
        h.keys_hit[row] = attack
        h.keys_velocity[row], h.keys_prob[row], h.keys_u[row] = ksrc
        self._keys_rate += (float(attack) - self._keys_rate) / (2.0 * meter.bar_steps)
        if attack:
            root_rel, q = F.chord_from_index(chord)
            pitches = voice((root_rel + key[0]) % 12, F.CHORD_QUALITIES[q], min(1.0, max(0.0, dissonance)),
                            F.VOICINGS[voicing], self._last_voicing)
            self._last_voicing = pitches
            vel = 127 * kvel * velocity_scale(keys_gain, c.energy)
            # Held until about the next attack, but not across a beat where the harmony may move (a
            # chord ringing into the next one is mud): a push late in the beat ties over one beat.
            spb = meter.steps_per_beat
            to_beat = spb - step.step_in_beat
            if to_beat < 2:
                to_beat += spb
            dur_steps = odd_group or min(to_beat, max(2, round(1.0 / max(self._keys_rate, 1.0 / 16))))
            chord_pcs = {p % 12 for p in pitches}
            for k in range(1, dur_steps):  # a bass note on the way outside the chord may bring a new one
                sib = (step.step_in_beat + k) % spb
                t_k = step.time + k * period + ctx.swing_shift(sib, spb, period, ctx.swing) + ctx.feel
                b = ctx.bass_at(t_k, period, now, s.heard)
                if b.onset and (b.pitch is None or b.pitch % 12 not in chord_pcs):
                    dur_steps = k
                    break
            duration = int(0.95 * dur_steps * period)
            t0 = step.time + grid_shift
            for i, pitch in enumerate(pitches):
                accent = 4 if i == len(pitches) - 1 else (-3 if 0 < i < len(pitches) - 1 else 0)
                v = int(round(vel)) + accent
                if v < 1:
                    continue
                t = t0 + i * ctx.strum
                out.append(PlayedNote("keys", max(now, int(round(t))), duration, pitch, min(127, v),
                                      self.keys_channel, now))
            if vel >= 1:
                self._prominence[PROMINENCE_VOICES.index("keys")] += LOUDNESS["keys"] * min(127.0, vel) / 127.0
        self._prev_chord = chord
        self._prev_voicing = voicing
        self._prev_keys_hit = attack
        self._prev_keys_vel = kvel if attack else 0.0



@dataclass(slots=True)
class _StepInfo:
    """What one step's drums and keys both need (built once per step by Generator._step)."""

    step: GridStep
    c: ControlState
    now: int
    ctx: PlanContext
    heard: Heard
    row: int  # the history row being written
    bass: BassAt
    key: tuple[int, bool] | None
    minor: bool
    bass_pc_rel: int | None
    variation: Variation | None  # the variation playing at this step, if any
    taste: dict
    dissonance: float
    resolving: bool
    fill_progress: float | None
    temp: float
    nucleus: float
    repeat: float
    ago: int | None
    held: KeptPattern | None
    held_pos: int | None
    grid_shift: float
