"""How loud and how busy: the level and energy controls as hit odds and velocities, and which
voice stands out.

A part asked to play softer plays fewer notes *and* softer ones, as a musician coming down does:
its hit logits are shifted (the least likely hits go first, so the groove's skeleton stays) and its
velocities scaled. These are the only places the level controls touch the notes.
"""

from __future__ import annotations

import math

from jambox.controls.state import ControlState

# Drum voices (features.DRUM_VOICES) -> the voice names ControlState.voice_levels trims.
VOICE_GROUP = ("kick", "snare", "hihat", "hihat", "tom", "tom", "tom", "crash", "ride")
PROMINENCE_VOICES = ("kick", "snare", "hihat", "tom", "crash", "ride", "keys")
# How much a hit of each voice stands out, relative to the snare (for "most prominent"). Measured on
# the shipped GM soundfont (FluidR3, RMS over 300 ms at velocity 100): kick 0.88, toms 0.9..1.05,
# crash 0.93, ride 0.34, open hat 0.24, closed hat 0.19. The kick is counted lower than it
# measures because it sits in the bass's register, under the player; a keys chord counts once per
# attack, as loud as a snare hit, which assumes the mix sets the keys about 9 dB below the raw
# soundfont (a 3-note electric piano chord measures 2.9 x the snare).
LOUDNESS = {"kick": 0.6, "snare": 1.0, "hihat": 0.2, "tom": 0.95, "crash": 0.9, "ride": 0.35, "keys": 1.0}

# Levels at which the model's own density and velocity are played unchanged (the shipped defaults).
REFERENCE_LEVEL = {"level": 0.8, "drums": 0.8, "keys": 0.7}
DENSITY_SLOPE = 1.5  # logit shift per unit of log level: half the level ~ a third fewer hits
VELOCITY_EXPONENT = 0.6  # velocity scale = gain ** this
ENERGY_NEUTRAL = 0.6  # the energy knob's default: no post-hoc change there
ENERGY_BIAS = 2.5  # logit shift per unit of energy away from neutral


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def part_gain(controls: ControlState, part: str, voice_trim: float = 1.0) -> float:
    """How loud a part is asked to play relative to the reference levels (1.0 = the model as it is).

    The master ``level`` counts at half strength (a square root): the performer already turns the
    whole mix down by it, and the band only needs to play a little sparser and softer with it, as
    musicians do when asked to come down, rather than fade out twice.
    """
    part_level = controls.drums_level if part == "drums" else controls.keys_level
    master = math.sqrt(max(0.0, controls.level) / REFERENCE_LEVEL["level"])
    return master * (part_level / REFERENCE_LEVEL[part]) * voice_trim


def density_bias(gain: float, energy: float) -> float:
    """Logit shift for hits of a part at ``gain`` and ``energy``; -inf when the part is silent."""
    if gain <= 0.0:
        return -math.inf
    return DENSITY_SLOPE * math.log(gain) + ENERGY_BIAS * (energy - ENERGY_NEUTRAL)


def velocity_scale(gain: float, energy: float) -> float:
    return max(0.0, gain) ** VELOCITY_EXPONENT * (0.7 + 0.5 * energy) / (0.7 + 0.5 * ENERGY_NEUTRAL)


def keeps(p: float, u: float, bias: float) -> bool:
    """Thinning of a kept hit: it stays with probability sigmoid(logit(p) + bias) / p (all of them at
    bias >= 0), decided by the hit's fixed random number so the same hits go every time round."""
    if bias >= 0.0:
        return True
    if bias == -math.inf:
        return False
    return u < sigmoid(logit(p) + bias) / p
