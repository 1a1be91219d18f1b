import tomllib

import pytest

from jambox.config.load import DEFAULT_FILE, defaults, load_config, parse_set
from jambox.config.schema import SCHEMA
from jambox.errors import ConfigError


def test_shipped_default_file_matches_the_schema():
    shipped = tomllib.loads(DEFAULT_FILE.read_text())
    assert shipped == defaults()


def test_defaults_load_with_no_files():
    cfg = load_config(search=[])
    assert cfg.audio.sample_rate == 48000
    assert cfg.listener.hop_size in SCHEMA["listener"]["hop_size"].choices
    assert cfg.sources == [str(DEFAULT_FILE)]


def test_a_user_file_overrides_defaults(tmp_path):
    f = tmp_path / "jambox.toml"
    f.write_text("[audio]\nblock_size = 64\n[initial]\nenergy = 0.25\n")
    cfg = load_config(f)
    assert cfg.audio.block_size == 64
    assert cfg.initial.energy == 0.25
    assert cfg.initial.dissonance == SCHEMA["initial"]["dissonance"].default


def test_every_error_is_reported_at_once_with_value_and_allowed(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[audio]\nblock_size = 100\nsample_rat = 48000\n[performer]\nmidi_keys_channel = 17\n'
                 '[generator]\nbackend = "tflit"\n[nonsense]\nx = 1\n')
    with pytest.raises(ConfigError) as e:
        load_config(f)
    msg = str(e.value)
    assert len(e.value.problems) == 5
    assert "audio.block_size must be one of 32, 64, 128, 256, 512, 1024, not 100" in msg
    assert "did you mean 'sample_rate'" in msg
    assert "performer.midi_keys_channel must be int in range 1..16, not 17" in msg
    assert "did you mean 'tflite'" in msg
    assert "unknown section [nonsense]" in msg


def test_wrong_types_are_errors(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[controls]\nkeyboard = "yes"\n[initial]\nenergy = true\n')
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert len(e.value.problems) == 2


def test_invalid_toml_and_missing_file_are_clear(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("[audio\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(f)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_overrides_are_validated():
    cfg = load_config(search=[])
    cfg2 = cfg.with_overrides(parse_set(["generator.steps_ahead=4", 'performer.soundfont="/x.sf2"']))
    assert cfg2.generator.steps_ahead == 4
    assert cfg2.performer.soundfont == "/x.sf2"
    assert cfg.generator.steps_ahead == SCHEMA["generator"]["steps_ahead"].default
    with pytest.raises(ConfigError, match="generator.steps_ahead must be int in range 1..16, not 99"):
        cfg.with_overrides(parse_set(["generator.steps_ahead=99"]))


def test_to_toml_round_trips():
    cfg = load_config(search=[])
    assert tomllib.loads(cfg.to_toml()) == cfg.as_dict()
