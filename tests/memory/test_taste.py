"""Taste arithmetic: settled values from a control timeline, the moving average, buckets and blending."""

import pytest

from jambox.memory import taste as t

SR = 48000


def test_tempo_ranges_and_buckets():
    assert t.tempo_range(None) == "*" and t.tempo_range(0) == "*" and t.tempo_range(float("nan")) == "*"
    assert t.tempo_range(79.9) == "<80" and t.tempo_range(80) == "80-105" and t.tempo_range(200) == "130+"
    assert t.bucket((4, 4), 100.0) == "4/4@80-105"
    assert t.fold_buckets((6, 8), 140.0) == ["*@*", "*@130+", "6/8@*", "6/8@130+"]
    assert t.fold_buckets(None, None) == ["*@*"]


def test_settled_values_weigh_time_in_force_and_the_end():
    # energy 0.8 for 10 s, then 0.2 for 50 s (to the end): the player settled low
    values, in_force = t.settled_values([(0, {"energy": 0.8}), (10 * SR, {"energy": 0.2})], 60 * SR)
    assert values["energy"] < 0.3 and in_force == 60 * SR
    # a brief excursion at the end still counts, as where the player ended up, but less than the long stay
    values, _ = t.settled_values([(0, {"energy": 0.8}), (59 * SR, {"energy": 0.2})], 60 * SR)
    assert 0.5 < values["energy"] < 0.8


def test_settled_values_ignore_quiet_stretches_and_non_taste_keys():
    values, in_force = t.settled_values(
        [(0, {"energy": 0.9, "playing": False, "voice_levels": [["kick", 0.5]]}), (30 * SR, {"energy": 0.3, "mode": "x"})],
        40 * SR)
    assert values == {"energy": pytest.approx(0.3)} and in_force == 10 * SR


def test_kept_settings_weigh_more_than_their_moment():
    points = [(0, {"energy": 0.8}), (50 * SR, {"energy": 0.8})]
    plain, _ = t.settled_values(points, 60 * SR)
    with_keep, _ = t.settled_values(points, 60 * SR, kept=[{"energy": 0.2}])
    assert plain["energy"] == pytest.approx(0.8)
    assert with_keep["energy"] < 0.65  # one keep weighs half the session


def test_fold_is_a_mean_at_first_then_a_moving_average_that_keeps_learning():
    p = t.fold({}, {"energy": 0.2}, 1.0)
    assert p == {"energy": {"value": 0.2, "evidence": 1.0}}
    p = t.fold(p, {"energy": 0.4}, 1.0)
    assert p["energy"]["value"] == pytest.approx(0.3)
    for _ in range(50):
        p = t.fold(p, {"energy": 0.3}, 1.0)
    before = p["energy"]["value"]
    p = t.fold(p, {"energy": 1.0}, 1.0)
    # with lots of evidence a new session still moves it by at least 1/(MAX_EVIDENCE + 1)
    assert p["energy"]["value"] - before >= (1.0 - before) / (t.MAX_EVIDENCE + 1) - 1e-9
    assert t.fold(p, {"energy": 0.0}, 0.0) == p


def test_blend_prefers_the_specific_bucket_and_falls_back_to_broader_ones():
    slow = t.fold({}, {"energy": 0.2}, 3.0)
    general = t.fold({}, {"energy": 0.6, "surprise": 0.5}, 3.0)
    profiles = {"4/4@<80": slow, "*@*": general}
    here = t.blend(profiles, (4, 4), 70.0)
    assert 0.2 < here["energy"] < 0.4 and here["surprise"] == pytest.approx(0.5)
    elsewhere = t.blend(profiles, (7, 8), 120.0)
    assert elsewhere["energy"] == pytest.approx(0.6)
    assert elsewhere["confidence"] < here["confidence"]
    assert t.blend({}, (4, 4), 100.0) == {"confidence": 0.0}


def test_confidence_grows_with_evidence():
    assert t.confidence(0) == 0.0
    assert 0 < t.confidence(0.5) < t.confidence(2) < t.confidence(10) < 1.0


def test_session_weight_counts_time_feedback_and_keeps():
    assert t.session_weight(30, 0, 0) == pytest.approx(0.5)
    assert t.session_weight(30, 4, 1) == pytest.approx(2.0)
    assert t.session_weight(3600, 100, 10) == t.MAX_SESSION_WEIGHT


def test_start_controls_move_toward_taste_by_weight_and_confidence():
    initial = {"energy": 0.6, "dissonance": 0.2}
    assert t.start_controls(initial, {"confidence": 0.0, "energy": 0.1}, 0.7) == initial
    moved = t.start_controls(initial, {"confidence": 0.5, "energy": 0.2, "dissonance": 0.6}, 1.0)
    assert moved == {"energy": pytest.approx(0.4), "dissonance": pytest.approx(0.4)}


def verdict(kind, adopted, how, surprise=0.6):
    return (kind, adopted, how, {"surprise": surprise, "energy": 0.4})


def test_a_let_go_settles_the_surprise_a_little_lower_and_a_keep_higher():
    points = [(0, {"surprise": 0.6, "energy": 0.6})]
    plain, _ = t.settled_values(points, 60 * SR)
    down, _ = t.settled_values(points, 60 * SR, verdicts=t.verdict_samples([verdict("fill", False, "let_go")] * 4))
    up, _ = t.settled_values(points, 60 * SR, verdicts=t.verdict_samples([verdict("fill", True, "keep")] * 4))
    assert plain["surprise"] == pytest.approx(0.6)
    assert down["surprise"] < plain["surprise"] < up["surprise"]
    assert plain["surprise"] - down["surprise"] < t.VERDICT_NUDGE  # a little: never past the nudge
    assert down["energy"] == plain["energy"]  # a let go says nothing about the energy; a keep keeps its settings
    assert up["energy"] < plain["energy"]


def test_appetites_move_from_neutral_by_how_the_suggestions_were_decided():
    ap = t.appetite_values([verdict("fill", False, "let_go"), verdict("fill", False, "expired"),
                            verdict("odd_bar", True, "keep"), verdict("break", False, "new_riff")])
    assert ap == {"appetite_fill": (0.0, 1.5), "appetite_odd_bar": (1.0, 1.0)}  # expired counts half; a new riff nothing
    profile = t.fold_appetites({}, ap)
    assert 0.0 < profile["appetite_fill"]["value"] < t.NEUTRAL_APPETITE < profile["appetite_odd_bar"]["value"] < 1.0
    once = t.fold_appetites({}, t.appetite_values([verdict("fill", False, "let_go")]))["appetite_fill"]["value"]
    assert profile["appetite_fill"]["value"] < once < t.NEUTRAL_APPETITE  # more let-goes, lower
    blended = t.blend({"*@*": profile}, (4, 4), 100.0)
    assert blended["appetite_fill"] == pytest.approx(profile["appetite_fill"]["value"], abs=1e-4)
    assert "appetite_break" not in blended
