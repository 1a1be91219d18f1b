"""Taste: where the player settles, learned from sessions, per meter and tempo range.

After a session, the controls the player *settled on* are worked out from the control timeline:
each setting weighted by how long it was in force (later in the session counts more, the final one
gets a bonus: that is where the player ended up), and the settings of what they kept or adopted
weighted more again. That value folds into the profile of the session's bucket with an exponential
moving average whose step shrinks with evidence (a running mean at first, then at least
``1 / (MAX_EVIDENCE + 1)`` of each new session, so taste keeps moving when the player changes).

Suggestions are feedback too. Each one decided (kept, or let go: with LET GO, by SOFTER or RESOLVE
while it played, or by being left to expire, which counts half) moves the settled surprise a
little away from what was tried (:data:`VERDICT_NUDGE` below the surprise it was offered at for a
let go, above for a keep), and moves that kind's appetite (``appetite_<kind>``, 0..1, from a
neutral prior of :data:`NEUTRAL_APPETITE` worth :data:`APPETITE_PRIOR` sessions) toward 0 or 1, in the
same EMA. A suggestion a new riff swept away says nothing about the player and teaches nothing.

The profile is kept at four levels of detail: meter and tempo range, meter alone, tempo range
alone, everything; :func:`blend` answers for a query from all of them, the specific ones weighted
more, so a first session in 6/8 still starts from what the player likes in general.

Everything here is pure: numbers in, numbers out; :mod:`jambox.memory.memory` does the storage.
"""

from __future__ import annotations

import math
from typing import Iterable

# Controls the player sets (jambox.controls.actions.CONTROLS) and pattern qualities a kept part has.
TASTE_KEYS = ("energy", "dissonance", "surprise", "level", "drums_level", "keys_level",
              "syncopation", "busyness", "keys_density")
TEMPO_RANGES = ((0.0, 80.0, "<80"), (80.0, 105.0, "80-105"), (105.0, 130.0, "105-130"), (130.0, math.inf, "130+"))
ANY = "*"
EVIDENCE_SCALE = 2.0  # confidence = 1 - exp(-evidence / EVIDENCE_SCALE)
MAX_EVIDENCE = 6.0  # the EMA's memory, in session weights
FEEDBACK_KINDS = ("keep", "softer", "softer_all", "more_dissonance", "resolve", "let_go", "set")
FULL_SESSION_S = 60.0  # a session this long counts fully for its time alone
MAX_SESSION_WEIGHT = 3.0
APPETITE = "appetite_"  # taste keys "appetite_<kind>": how much the player takes to a kind of suggestion
NEUTRAL_APPETITE = 0.5
APPETITE_PRIOR = 1.0  # the neutral appetite a kind starts from weighs this many verdicts
VERDICT_NUDGE = 0.15  # a let go settles the surprise this far below where it was offered; a keep above
# How much a decided suggestion says, by how it was decided (suggestions.how; None: a row from before v3).
VERDICT_WEIGHTS = {"keep": 1.0, "let_go": 1.0, "softer": 1.0, "softer_all": 1.0, "resolve": 1.0,
                   "expired": 0.5, None: 0.5, "new_riff": 0.0}


def appetite_key(kind: str) -> str:
    """The taste key of a suggestion kind's appetite ("fill" -> "appetite_fill")."""
    return APPETITE + str(kind)


def is_taste_key(key: str) -> bool:
    return key in TASTE_KEYS or key.startswith(APPETITE)


def tempo_range(tempo_bpm: float | None) -> str:
    if tempo_bpm is None or not math.isfinite(tempo_bpm) or tempo_bpm <= 0:
        return ANY
    for lo, hi, name in TEMPO_RANGES:
        if lo <= tempo_bpm < hi:
            return name
    return ANY


def meter_name(meter) -> str:
    if meter is None:
        return ANY
    num, den = meter
    return f"{int(num)}/{int(den)}"


def bucket(meter, tempo_bpm: float | None) -> str:
    return f"{meter_name(meter)}@{tempo_range(tempo_bpm)}"


def fold_buckets(meter, tempo_bpm: float | None) -> list[str]:
    """The buckets a session in ``meter`` at ``tempo_bpm`` teaches: every level of detail it knows."""
    m, t = meter_name(meter), tempo_range(tempo_bpm)
    return sorted({f"{mm}@{tt}" for mm in {m, ANY} for tt in {t, ANY}})


def query_weights(meter, tempo_bpm: float | None) -> dict[str, float]:
    """How much each bucket speaks for a query: the exact one fully, broader ones less."""
    m, t = meter_name(meter), tempo_range(tempo_bpm)
    weights = {}
    for mm in {m, ANY}:
        for tt in {t, ANY}:
            w = 1.0
            if mm == ANY and m != ANY:
                w *= 0.5
            if tt == ANY and t != ANY:
                w *= 0.7
            weights[f"{mm}@{tt}"] = w
    return weights


def clean_settings(settings: dict | None) -> dict[str, float]:
    """The taste keys of a settings dict, as floats clipped to 0..1 (anything else is ignored)."""
    out = {}
    for key in TASTE_KEYS:
        v = (settings or {}).get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            continue
        out[key] = min(1.0, max(0.0, float(v)))
    return out


def settled_values(points: Iterable[tuple[int, dict]], end_time: int | None, kept: Iterable[dict] = (),
                   verdicts: Iterable[tuple[dict, float]] = ()) -> tuple[dict[str, float], float]:
    """The settings the player settled on, and the stream time (samples) they were in force.

    ``points`` are (stream time, settings in force from then), in order; ``end_time`` the session's
    last stream time. A point whose settings say ``playing: False`` weighs nothing (the box was quiet).
    ``kept`` are the settings of kept parts: each weighs half the session. ``verdicts`` are
    (sample, factor) pairs from :func:`verdict_samples`: each weighs ``factor`` times a kept part.
    """
    pts = sorted(((int(t), s) for t, s in points), key=lambda p: p[0])  # stable: later same-time points win
    sums: dict[str, float] = {}
    weights: dict[str, float] = {}
    total = 0.0
    if pts:
        start = pts[0][0]
        end = max(int(end_time) if end_time is not None else pts[-1][0], pts[-1][0])
        span = max(end - start, 1)
        for i, (t, settings) in enumerate(pts):
            t_next = pts[i + 1][0] if i + 1 < len(pts) else end
            duration = max(t_next - t, 0)
            if i + 1 == len(pts):
                duration = max(duration, span // 4, 1)  # where the player ended up: never nothing
            if settings.get("playing") is False or duration == 0:
                continue
            middle = (t + duration / 2 - start) / span
            w = duration * (0.5 + min(1.0, middle))
            total += duration
            for key, v in clean_settings(settings).items():
                sums[key] = sums.get(key, 0.0) + w * v
                weights[key] = weights.get(key, 0.0) + w
    kept_weight = 0.5 * max(sum(weights.values()) / max(len(weights), 1), 1.0)
    for settings, factor in [(k, 1.0) for k in kept] + list(verdicts):
        for key, v in clean_settings(settings).items():
            sums[key] = sums.get(key, 0.0) + factor * kept_weight * v
            weights[key] = weights.get(key, 0.0) + factor * kept_weight
    return {k: sums[k] / weights[k] for k in sums if weights[k] > 0}, total


def verdict_weight(how: str | None) -> float:
    return VERDICT_WEIGHTS.get(how, VERDICT_WEIGHTS[None])


def verdict_samples(verdicts: Iterable[tuple[str, bool, str | None, dict]]) -> list[tuple[dict, float]]:
    """What the decided suggestions (kind, adopted, how, settings offered at) say about the settings:
    an adopted one, its settings with the surprise nudged up (the player liked being surprised there);
    a let go, only a surprise nudged down (it says nothing about energy or level). With the
    verdict's weight as the factor, for :func:`settled_values`."""
    out = []
    for _kind, adopted, how, settings in verdicts:
        factor = verdict_weight(how)
        s = clean_settings(settings)
        if factor <= 0.0:
            continue
        if "surprise" in s:
            s["surprise"] = min(1.0, max(0.0, s["surprise"] + (VERDICT_NUDGE if adopted else -VERDICT_NUDGE)))
        sample = s if adopted else {k: v for k, v in s.items() if k == "surprise"}
        if sample:
            out.append((sample, factor))
    return out


def appetite_values(verdicts: Iterable[tuple[str, bool, str | None, dict]]) -> dict[str, tuple[float, float]]:
    """Per kind's appetite key: (share adopted, weight) of one session's decided suggestions."""
    kept: dict[str, float] = {}
    total: dict[str, float] = {}
    for kind, adopted, how, _settings in verdicts:
        w = verdict_weight(how)
        if w <= 0.0:
            continue
        key = appetite_key(kind)
        total[key] = total.get(key, 0.0) + w
        kept[key] = kept.get(key, 0.0) + (w if adopted else 0.0)
    return {k: (kept[k] / total[k], total[k]) for k in total}


def fold_appetites(profile: dict, appetites: dict[str, tuple[float, float]]) -> dict:
    """``profile`` after one session's appetites (:func:`appetite_values`): each kind's EMA starts
    from the neutral appetite, so a first let go moves it a little, not to 0."""
    out = {k: dict(v) for k, v in profile.items()}
    for key, (value, weight) in appetites.items():
        if key not in out:
            out[key] = {"value": NEUTRAL_APPETITE, "evidence": APPETITE_PRIOR}
        out = fold(out, {key: value}, weight)
    return out


def session_weight(played_s: float, feedback_actions: int, kept: int) -> float:
    """How much one session teaches: its length, plus every piece of feedback and every keep."""
    w = min(1.0, max(played_s, 0.0) / FULL_SESSION_S) + 0.25 * feedback_actions + 0.5 * kept
    return min(MAX_SESSION_WEIGHT, w)


def fold(profile: dict, values: dict[str, float], weight: float) -> dict:
    """``profile`` ({key: {"value", "evidence"}}) after one session's settled ``values`` at ``weight``."""
    out = {k: dict(v) for k, v in profile.items()}
    if weight <= 0:
        return out
    for key, v in values.items():
        old = out.get(key)
        if old is None:
            out[key] = {"value": v, "evidence": weight}
            continue
        alpha = weight / (min(old["evidence"], MAX_EVIDENCE) + weight)
        out[key] = {"value": old["value"] + alpha * (v - old["value"]), "evidence": old["evidence"] + weight}
    return out


def confidence(evidence: float) -> float:
    return 1.0 - math.exp(-max(evidence, 0.0) / EVIDENCE_SCALE)


def blend(profiles: dict[str, dict], meter, tempo_bpm: float | None) -> dict:
    """The taste for a meter and tempo from the stored ``profiles`` ({bucket: profile}).

    Each key is the mean of the buckets that know it, weighted by specificity x confidence. The
    overall ``confidence`` (0..1) is the best bucket's, discounted by its specificity: one session
    teaches every level at once, so the levels are not independent witnesses and are not compounded.
    It speaks for the controls and pattern qualities; the appetites (``appetite_<kind>``) are
    already shrunk toward neutral by their prior, and are used as they are.
    """
    weights = query_weights(meter, tempo_bpm)
    sums: dict[str, float] = {}
    wsum: dict[str, float] = {}
    overall = 0.0
    for name, spec in weights.items():
        profile = profiles.get(name)
        if not profile:
            continue
        best = 0.0
        for key, entry in profile.items():
            if not is_taste_key(key):
                continue
            c = confidence(entry["evidence"])
            if key in TASTE_KEYS:  # an appetite carries its own doubt (its neutral prior), not the profile's
                best = max(best, c)
            sums[key] = sums.get(key, 0.0) + spec * c * entry["value"]
            wsum[key] = wsum.get(key, 0.0) + spec * c
        overall = max(overall, spec * best)
    taste = {k: round(sums[k] / wsum[k], 4) for k in sorted(sums) if wsum.get(k, 0.0) > 0}
    taste["confidence"] = round(overall, 4)
    return taste


def start_controls(initial: dict[str, float], taste: dict, weight: float) -> dict[str, float]:
    """Where the controls start: ``initial`` moved toward ``taste`` by ``weight`` x its confidence.

    ``weight`` is ``config.memory.taste_weight``; with no taste (confidence 0) this is ``initial``.
    """
    pull = max(0.0, min(1.0, weight)) * max(0.0, min(1.0, float(taste.get("confidence", 0.0))))
    out = dict(initial)
    for key, v in initial.items():
        if key in taste and key != "confidence":
            out[key] = v + pull * (float(taste[key]) - v)
    return out
