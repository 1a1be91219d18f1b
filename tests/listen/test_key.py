import pytest

from jambox.listen.key import KeyTracker


def hear(notes, first=None):
    k = KeyTracker()
    if first is not None:
        k.start_section(first)
    for p in notes * 3:
        k.add(p, 1.0)
    return k.tonic, k.mode


def test_a_major_scale_line_is_major():
    assert hear([36, 40, 43, 36, 41, 43, 36, 38, 40, 43, 47, 48], first=36) == (0, "major")


def test_a_minor_riff_is_minor():
    assert hear([33, 33, 45, 43, 33, 36, 38, 40, 41, 40, 38, 36], first=33) == (9, "minor")


def test_nothing_heard_no_key():
    assert KeyTracker().tonic is None


A_MINOR_RIFF = [33, 33, 45, 43, 33, 36, 38, 40, 41, 40, 38, 36]  # A C D E F G: A minor's notes only
G_MAJOR_RIFF = [31, 35, 38, 43, 31, 30, 33, 38, 31, 35, 42, 43]  # G B D F# A: F# and B lie outside A minor


def keep_playing(k, notes, times):
    for p in notes * times:
        k.add(p, 1.0)
    return k.tonic, k.mode


# a two-bar riff in C minor, the chord root on each one: C (i), then G (v), heavy on its downbeat
C_MINOR_BAR = [(36, 2.5), (36, 1.0), (43, 1.0), (39, 1.0), (43, 1.0), (46, 1.0)]
G_BAR = [(43, 2.5), (43, 1.0), (38, 1.0), (44, 1.0), (38, 1.0), (43, 1.0)]


@pytest.mark.parametrize("passes", [1, 3])
def test_a_new_riff_in_the_same_key_keeps_the_key(passes):
    """The meter calls a new riff where the grid slipped a beat, at the G bar, and takes that G for
    the riff's first note: the notes still fit C minor, so that cue must not turn the key to G."""
    k = KeyTracker()
    k.start_section(36)
    for p, w in (C_MINOR_BAR + G_BAR) * 4:
        k.add(p, w)
    assert (k.tonic, k.mode) == (0, "minor")
    k.new_section()
    k.start_section(43)
    for p, w in (G_BAR + C_MINOR_BAR) * passes:
        k.add(p, w)
    assert (k.tonic, k.mode) == (0, "minor")


def test_a_new_riff_in_a_new_key_takes_over():
    k = KeyTracker()
    k.start_section(33)
    keep_playing(k, A_MINOR_RIFF, 3)
    k.new_section()
    k.start_section(31)
    assert keep_playing(k, G_MAJOR_RIFF, 3) == (7, "major")


def test_the_key_holds_until_the_new_riff_is_heard_enough():
    """Two notes of a new riff are no key change yet: the answer does not flicker."""
    k = KeyTracker()
    k.start_section(33)
    keep_playing(k, A_MINOR_RIFF, 3)
    k.new_section()
    k.start_section(31)
    assert keep_playing(k, G_MAJOR_RIFF[:2], 1) == (9, "minor")
