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
