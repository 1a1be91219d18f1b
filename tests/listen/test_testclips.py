import numpy as np
import pytest

from jambox.listen.scoring import beat_f, note_f, onset_f
from jambox.listen.testclips import DEGRADATIONS, ClipSpec, clip_midi, clip_set, degrade, render_clip


def test_a_clip_is_decided_by_its_spec():
    a, b = clip_midi(ClipSpec(seed=3))[1], clip_midi(ClipSpec(seed=3))[1]
    assert a == b and clip_midi(ClipSpec(seed=4))[1] != a


@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8), (5, 4), (7, 8), (7, 4)])
def test_truth_follows_the_meter_and_drift(meter):
    spec = ClipSpec(seed=1, meter=meter, bpm=120, drift=0.08, bars=8)
    truth = clip_midi(spec)[1]
    assert len(truth["beats"]) == 8 * meter[0] and len(truth["downbeats"]) == 8
    ibi = np.diff(truth["beats"])
    assert ibi[-1] < ibi[0] * 0.95  # 8% faster at the end
    assert all(truth["beats"][0] - 0.1 <= n[0] for n in truth["notes"])


def test_degradations_change_the_signal_and_unknown_ones_are_refused():
    x = np.sin(np.linspace(0, 200, 48000)).astype(np.float32) * 0.5
    rng = np.random.default_rng(0)
    for kind in DEGRADATIONS[1:]:
        assert not np.allclose(degrade(x, kind, 48000, rng), x)
    with pytest.raises(ValueError, match="clean"):
        degrade(x, "fuzz", 48000, rng)


def test_the_scored_set_covers_every_program_and_degradation():
    specs = clip_set()
    assert {s.program for s in specs} == set(range(32, 40))
    assert {s.degradation for s in specs} == set(DEGRADATIONS)
    assert {s.meter for s in specs} == {(4, 4), (3, 4), (6, 8), (5, 4), (7, 8), (7, 4)}
    assert not {s.seed for s in specs} & {s.seed for s in clip_set(base_seed=0)}


def test_rendered_truth_matches_the_midi_and_scores_are_sane():
    clip = render_clip(ClipSpec(seed=2, bars=4, loop_bars=1))
    assert clip.audio.dtype == np.float32 and len(clip.notes) > 4
    ref = [n[0] for n in clip.notes]
    assert onset_f(ref, ref) == 1.0 and onset_f(ref, [t + 0.08 for t in ref]) == 0.0
    notes = [(n[0], n[2]) for n in clip.notes]
    assert note_f(notes, notes) == 1.0 and note_f(notes, [(t, p + 12) for t, p in notes]) == 0.0
    assert beat_f(clip.beats, clip.beats) == 1.0


def test_every_note_is_in_the_key_and_on_the_instrument():
    from jambox.events import PITCH_CLASSES
    from jambox.listen.testclips import MAJOR_SCALE, MINOR_SCALE

    for spec in clip_set(quick=True) + [ClipSpec(seed=s, low_b=s % 2 == 0) for s in range(40)]:
        truth = clip_midi(spec)[1]
        tonic = PITCH_CLASSES.index(truth["key"][0])
        scale = MAJOR_SCALE if truth["key"][1] == "major" else MINOR_SCALE
        low = 23 if spec.low_b else 28
        for _, _, pitch in truth["notes"]:
            assert (pitch - tonic) % 12 in scale and low <= pitch <= low + 26
