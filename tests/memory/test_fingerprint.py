"""Riff fingerprints: invariant to key, tempo, starting point and timing wobble; different riffs differ."""

import random

import pytest

from jambox.errors import ValueRangeError
from jambox.events import Note
from jambox.memory.fingerprint import SIMILAR, decode, riff_fingerprint, riff_similarity

SR = 48000
# A 2-bar 4/4 riff on the 16th grid: (step, MIDI pitch). E minor-ish, with an octave jump and a push.
RIFF = [(0, 40), (3, 40), (6, 43), (8, 45), (10, 47), (14, 52), (16, 40), (19, 40), (22, 43), (24, 45),
        (27, 38), (30, 36)]
OTHER = [(0, 45), (4, 45), (8, 48), (12, 50), (16, 45), (20, 45), (24, 52), (28, 50)]


def notes(riff, bpm=100.0, transpose=0, start=0.3, loops=2, loop_steps=32, jitter=0.0, meter_den=4, seed=0):
    """The riff as the listener would report it: ``loops`` repeats from stream time ``start`` seconds."""
    rng = random.Random(seed)
    beat = SR * 60.0 / bpm
    step = beat * meter_den / 16
    out = []
    for rep in range(loops):
        for s, p in riff:
            t = start * SR + (rep * loop_steps + s) * step + rng.uniform(-jitter, jitter) * step
            out.append(Note(onset=int(t), pitch=p + transpose, velocity=90, emitted_at=int(t) + 800))
    return out, beat


def fp(riff, **kw):
    ns, beat = notes(riff, **kw)
    return riff_fingerprint(ns, beat, kw.get("bars", 2) if "bars" in kw else 2, (4, 4))


def test_same_riff_same_fingerprint_in_any_key_tempo_and_start():
    base = fp(RIFF)
    assert fp(RIFF, transpose=5) == base
    assert fp(RIFF, transpose=-7) == base
    assert fp(RIFF, bpm=137.0) == base
    assert fp(RIFF, bpm=72.5, transpose=3) == base
    assert fp(RIFF, start=11.87) == base  # the listener's window began elsewhere in the loop
    assert fp(RIFF, jitter=0.2, seed=4) == base  # a human's timing, within a fifth of a 16th


def test_starting_on_another_bar_of_the_loop_is_the_same_riff():
    ns, beat = notes(RIFF, loops=3)
    assert riff_fingerprint(ns[3:], beat, 2, (4, 4)) == riff_fingerprint(ns, beat, 2, (4, 4))


def test_a_loop_heard_as_twice_its_length_reduces_to_itself():
    ns, beat = notes(RIFF, loops=4)
    as_four = riff_fingerprint(ns, beat, 4, (4, 4))
    assert as_four == riff_fingerprint(ns, beat, 2, (4, 4))
    assert decode(as_four).bars == 2


def test_different_riffs_differ():
    a, b = fp(RIFF), fp(OTHER)
    assert a != b
    assert riff_similarity(a, b) < 0.6
    assert riff_similarity(a, a) == 1.0 and riff_similarity(b, b) == 1.0


def test_a_riff_played_slightly_differently_still_matches():
    base = fp(RIFF)
    moved = [(s + 1, p) if s == 10 else (s, p) for s, p in RIFF]  # one note a 16th late
    repitched = [(s, p + 2) if s == 22 else (s, p) for s, p in RIFF]  # one wrong note
    dropped = [n for n in RIFF if n[0] != 19]  # one note left out
    for variant in (moved, repitched, dropped):
        v = fp(variant)
        assert v != base
        assert riff_similarity(base, v) >= SIMILAR, variant
        assert riff_similarity(v, base) == pytest.approx(riff_similarity(base, v), abs=0.05)
    # and still in another key and tempo
    assert riff_similarity(base, fp(moved, transpose=4, bpm=120.0)) >= SIMILAR


def test_an_octave_either_way_is_the_same_riff():
    # a bass player's octave jump played straight, or the pitch tracker's octave error on the low string
    base = fp(RIFF)
    assert fp([(s, p - 12) if s == 30 else (s, p) for s, p in RIFF]) == base
    assert fp([(s, p + 12) if s in (0, 16) else (s, p) for s, p in RIFF]) == base


def test_other_meters():
    riff68 = [(0, 40), (4, 43), (6, 45), (10, 47)]  # one 6/8 bar = 12 16ths
    ns, beat = notes(riff68, loop_steps=12, meter_den=8, bpm=180.0)
    a = riff_fingerprint(ns, beat, 1, (6, 8))
    ns2, beat2 = notes(riff68, loop_steps=12, meter_den=8, bpm=150.0, transpose=2)
    assert riff_fingerprint(ns2, beat2, 1, (6, 8)) == a
    assert a.split(":")[1] == "6/8"
    assert riff_similarity(a, fp(RIFF)) == 0.0  # another meter is another riff


@pytest.mark.parametrize("args,match", [
    (dict(notes=[], beat_period=28800, loop_bars=2, meter=(4, 4)), "at least 2 notes, not 0"),
    (dict(beat_period=0, loop_bars=2, meter=(4, 4)), "beat_period must be a positive number.*not 0"),
    (dict(beat_period=float("nan"), loop_bars=2, meter=(4, 4)), "beat_period"),
    (dict(beat_period=28800, loop_bars=0, meter=(4, 4)), r"loop_bars must be an integer in range 1\.\.16, not 0"),
    (dict(beat_period=28800, loop_bars=2, meter=(4, 5)), "not 4/5"),
    (dict(beat_period=28800, loop_bars=2, meter="four"), "meter must be"),
])
def test_bad_arguments_are_clear_errors(args, match):
    ns, _ = notes(RIFF)
    args.setdefault("notes", ns)
    with pytest.raises(ValueRangeError, match=match):
        riff_fingerprint(**args)


def test_decoding_something_else_is_a_clear_error():
    with pytest.raises(ValueRangeError, match="not a riff fingerprint: 'hello'"):
        decode("hello")
    with pytest.raises(ValueRangeError):
        riff_similarity("r1:4/4:2:abc:!!!", fp(RIFF))


def test_notes_on_one_step_and_silence_around_them_do_not_break_it():
    ns, beat = notes(RIFF)
    doubled = ns + [Note(onset=ns[0].onset + 30, pitch=ns[0].pitch + 12, velocity=60, emitted_at=ns[0].onset + 900)]
    assert riff_fingerprint(doubled, beat, 2, (4, 4)) == riff_fingerprint(ns, beat, 2, (4, 4))


def test_batch_similarities_agree_with_pairwise_and_score_junk_zero():
    from jambox.memory.fingerprint import similarities

    base = fp(RIFF)
    ns4, beat = notes(OTHER + [(s + 32, p) for s, p in OTHER[:3]], loops=1, loop_steps=64)
    four_bar = riff_fingerprint(ns4, beat, 4, (4, 4))  # another loop length: compared on the common multiple
    cands = [base, fp(OTHER), fp([(s, p + 2) if s == 22 else (s, p) for s, p in RIFF]), four_bar, "junk"]
    got = similarities(base, cands)
    assert got[0] == 1.0 and got[-1] == 0.0
    for c, g in zip(cands[1:-1], got[1:-1]):
        assert g == pytest.approx(riff_similarity(base, c))
    assert got[2] >= SIMILAR > got[1] and got[3] < SIMILAR


@pytest.mark.slow
def test_the_listeners_notes_give_one_fingerprint_for_the_demo_riff_in_another_key_and_tempo(tmp_path):
    """End to end with real analysis: the bundled riff, and its MIDI 3 semitones up and 20% faster,
    rendered by FluidSynth and heard by the listener, fingerprint alike at every point of the take."""
    import mido

    from jambox.audio.files import load_bass
    from jambox.config import load_config
    from jambox.demo_riff import AUDIO_FILE, MIDI_FILE
    from jambox.listen import Listener

    cfg = load_config(search=[])
    sr = cfg.audio.sample_rate
    mid = mido.MidiFile(MIDI_FILE)
    for track in mid.tracks:
        for msg in track:
            if msg.type in ("note_on", "note_off"):
                msg.note += 3
            if msg.type == "set_tempo":
                msg.tempo = int(msg.tempo / 1.2)
    variant = tmp_path / "variant.mid"
    mid.save(variant)

    def heard_fingerprints(path) -> list[str]:
        bass = load_bass(str(path), sr, soundfont=cfg.performer.soundfont)
        listener = Listener(sr, cfg.listener)
        hop, out = listener.hop_size, []
        for i in range(0, len(bass) - hop, hop):
            listener.process(bass[i:i + hop])
            h = listener.heard()
            if i % (sr * 2) < hop and h.loop_bars and h.beat_period and len(h.notes) >= 2:
                out.append(riff_fingerprint(list(h.notes), h.beat_period, h.loop_bars, h.meter))
        return out

    original, changed = heard_fingerprints(AUDIO_FILE), heard_fingerprints(variant)
    assert len(original) >= 5 and len(changed) >= 5
    assert set(original) == set(changed) == {original[0]}
