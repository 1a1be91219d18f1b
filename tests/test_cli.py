import subprocess
import sys

import pytest

from jambox.cli import COMMANDS, build_parser, main


def test_every_command_has_help(capsys):
    parser = build_parser()
    for name in COMMANDS:
        with pytest.raises(SystemExit) as e:
            parser.parse_args([name, "--help"])
        assert e.value.code == 0
        assert "usage: jambox " + name in capsys.readouterr().out


def test_python_dash_m_jambox_runs():
    out = subprocess.run([sys.executable, "-m", "jambox", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("jambox ")


def test_config_prints_the_effective_configuration(capsys, tmp_path):
    f = tmp_path / "j.toml"
    f.write_text("[audio]\nblock_size = 256\n")
    assert main(["--config", str(f), "config"]) == 0
    assert "block_size = 256" in capsys.readouterr().out


def test_a_bad_config_is_one_clear_error_and_nonzero_exit(capsys, tmp_path):
    f = tmp_path / "j.toml"
    f.write_text("[audio]\nblock_size = 100\n")
    assert main(["--config", str(f), "config"]) == 2
    err = capsys.readouterr().err
    assert "audio.block_size must be one of" in err and "Traceback" not in err
