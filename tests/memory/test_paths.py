from pathlib import Path

from jambox.memory.paths import default_state_path, state_path


def test_systemd_state_directory_wins_over_the_user_data_dir():
    assert default_state_path({"STATE_DIRECTORY": "/var/lib/jambox"}) == Path("/var/lib/jambox/state.db")
    # several StateDirectory= entries arrive joined with ':'; the first is ours
    assert default_state_path({"STATE_DIRECTORY": "/var/lib/jambox:/var/lib/other"}) == Path("/var/lib/jambox/state.db")


def test_without_systemd_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_state_path({}) == tmp_path / "jambox" / "state.db"


def test_explicit_over_configured_over_default(tmp_path):
    env = {"STATE_DIRECTORY": str(tmp_path / "sd")}
    assert state_path(tmp_path / "x.db", "/cfg/state.db", env) == tmp_path / "x.db"
    assert state_path(None, "/cfg/state.db", env) == Path("/cfg/state.db")
    assert state_path(None, "", env) == tmp_path / "sd" / "state.db"
    assert state_path("~/s.db", None, env) == Path.home() / "s.db"
