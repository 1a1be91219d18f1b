"""Tokenising: cached tables keyed by the data, augmentation, windows and batches."""

import shutil

import numpy as np
import pytest

from jambox.errors import TrainingError
from jambox.generate import features as F
from jambox.train import dataset as D
from tests.train.conftest import DATA


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    drums, harmony, info = D.build_tables(DATA, quick=True, seed=3, cache_dir=cache, progress=False)
    return cache, drums, harmony, info


def test_tables_are_cached_and_keyed_by_data_and_seed(tables):
    cache, drums, harmony, info = tables
    assert info["cache"] == "built" and len(info["data_sha256"]) == 64
    d2, h2, info2 = D.build_tables(DATA, quick=True, seed=3, cache_dir=cache, progress=False)
    assert info2["cache"] == "hit" and info2["cache_key"] == info["cache_key"]
    np.testing.assert_array_equal(d2.steps["hits"], drums.steps["hits"])
    np.testing.assert_array_equal(h2.steps["chord"], harmony.steps["chord"])
    _, _, info3 = D.build_tables(DATA, quick=True, seed=4, cache_dir=cache, progress=False)
    assert info3["cache_key"] != info["cache_key"]


def test_a_damaged_cache_is_rebuilt(tables, tmp_path):
    cache, drums, _, info = tables
    for f in cache.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / f"drums-{info['cache_key']}.npz").write_bytes(b"garbage")
    d, _, again = D.build_tables(DATA, quick=True, seed=3, cache_dir=tmp_path, progress=False)
    assert again["cache"] == "built"
    np.testing.assert_array_equal(d.steps["hits"], drums.steps["hits"])


def test_tables_hold_both_splits_odd_meters_and_sane_fields(tables):
    _, drums, harmony, _ = tables
    for t in (drums, harmony):
        assert t.meta["val"].any() and (~t.meta["val"]).any()
        assert t.meta["rebarred"].any()
        assert t.starts[-1] == len(t.steps["step_in_bar"])
    meters = {D.METER_LIST[m] for m in drums.meta["meter"]}
    assert (4, 4) in meters and len(meters) > 1
    c = drums.steps["controls"]
    assert c.min() >= 0 and c.max() <= 1
    assert harmony.steps["chord"].max() < F.N_CHORDS
    assert harmony.steps["bass_pc"].min() >= -1 and harmony.steps["bass_pc"].max() < 12
    known = np.concatenate([drums.steps["known"], harmony.steps["known"]])
    assert 0.5 < known.mean() < 1.0  # some bass dropout, mostly known


def test_rebarred_sequences_keep_step_in_bar_consistent(tables):
    _, drums, _, _ = tables
    for i in np.nonzero(drums.meta["rebarred"])[0]:
        meter = F.meter_for(*D.METER_LIST[drums.meta["meter"][i]])
        sib = drums.seq(i)["step_in_bar"]
        assert sib.max() == meter.bar_steps - 1 and np.all(sib == np.arange(len(sib)) % meter.bar_steps)


def test_batches_are_padded_and_masked(tables):
    _, drums, harmony, _ = tables
    wins = D.windows(drums, val=False, length=64)
    b = D.batch(D.drum_window, drums, wins[:5], 64)
    assert b["x"].shape == (5, 64, F.DRUM_IN) and b["hits"].shape == (5, 64, F.N_DRUMS)
    assert b["mask"].sum() == sum(w[2] for w in wins[:5])
    h = D.batch(D.harm_window, harmony, D.windows(harmony, val=True, length=32)[:3], 32)
    assert h["x"].shape == (3, 32, F.HARM_IN)
    # the prev-chord one-hot is the previous step's target
    x, chord = h["x"][0], h["chord"][0]
    assert np.argmax(x[5, F.H_PREV_CHORD]) == chord[4]


def test_collapse_rhythm_keeps_the_loudest_hit():
    hits = np.zeros((4, F.N_DRUMS), bool)
    vel = np.zeros((4, F.N_DRUMS), np.float32)
    off = np.zeros((4, F.N_DRUMS), np.float32)
    hits[1, [F.KICK, F.CLOSED_HAT]] = True
    vel[1, F.KICK], vel[1, F.CLOSED_HAT] = 0.5, 0.9
    off[1, F.KICK], off[1, F.CLOSED_HAT] = 0.1, -0.2
    onset, v, o = D.collapse_rhythm(hits, vel, off, list(range(F.N_DRUMS)))
    assert onset.tolist() == [False, True, False, False] and v[1] == pytest.approx(0.9) and o[1] == pytest.approx(-0.2)
    onset, v, o = D.collapse_rhythm(hits, vel, off, [F.KICK])
    assert v[1] == pytest.approx(0.5) and o[1] == pytest.approx(0.1)


def test_missing_data_folder_is_a_training_error(tmp_path):
    with pytest.raises(TrainingError, match="groove.*not found"):
        D.build_tables(tmp_path, quick=True, seed=0, cache_dir=tmp_path, progress=False)
