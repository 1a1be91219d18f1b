"""The whole pipeline through the CLI: `jambox train --quick` then `jambox export`, and their errors."""

import json

import pytest

from jambox.cli import main
from jambox.generate import features as F
from jambox.generate.model import load_model
from tests.train.conftest import DATA


@pytest.mark.slow
def test_quick_train_then_export_gives_loadable_models_and_a_card(tmp_path, capsys):
    run, models, cache = tmp_path / "run", tmp_path / "models", tmp_path / "cache"
    rc = main(["train", "--quick", "--data", str(DATA), "--out", str(run), "--cache", str(cache), "--seed", "1",
               "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "nll_per_step" in out and "chord_accuracy_given_bass" in out
    info = json.loads((run / "metrics.json").read_text())
    m = info["metrics"]
    for key in ("model", "pattern_bank", "ngram"):
        assert m["drums"]["nll_per_step"][key] > 0
    assert set(m["harmony"]["tension_vs_dissonance"]) >= {"real", "0.0", "1.0"}
    assert info["command"] == "jambox train --seed 1 --quick"

    rc = main(["export", "--checkpoint", str(run / "checkpoint.pt"), "--out", str(models)])
    assert rc == 0
    for name in ("jambox.onnx", "jambox-int8.onnx", "jambox.tflite", "jambox.json", "MODEL_CARD.md"):
        assert (models / name).is_file()
    card = (models / "MODEL_CARD.md").read_text()
    assert "CC BY 4.0" in card and "MIT" in card and info["data_sha256"] in card and "tolerance" in card
    for backend, name in (("onnx", "jambox-int8.onnx"), ("tflite", "jambox.tflite")):
        model = load_model(models / name, backend)
        assert model.drum_h == F.DRUM_H


def test_export_without_a_checkpoint_is_a_training_error(tmp_path, capsys):
    rc = main(["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path)])
    assert rc == 7
    assert "none.pt" in capsys.readouterr().err


def test_train_refuses_zero_epochs(capsys):
    assert main(["train", "--quick", "--epochs", "0"]) == 2
    assert "--epochs" in capsys.readouterr().err


def test_train_on_a_folder_without_data(tmp_path, capsys):
    assert main(["train", "--quick", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--no-progress"]) == 7
    assert "not found" in capsys.readouterr().err


def test_training_is_reproducible_with_a_seed(tmp_path):
    """Same seed, same data: bit-identical weights (CPU, fixed threads); another seed: different."""
    from jambox.train import dataset as D
    from jambox.train.loop import TrainConfig, train

    drums, harmony, _ = D.build_tables(DATA, quick=True, seed=0, cache_dir=tmp_path, progress=False)

    def weights(seed):
        cfg = TrainConfig(epochs=1, window=32, batch=4, max_batches_per_epoch=3, seed=seed, threads=1)
        nets, _ = train(drums, harmony, cfg, progress=False)
        return {k: v.clone() for k, v in nets.state_dict().items()}

    a, b, c = weights(5), weights(5), weights(6)
    assert all((a[k] == b[k]).all() for k in a)
    assert any((a[k] != c[k]).any() for k in a)
