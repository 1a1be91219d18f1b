"""Device selection against PortAudio's real device list (JACK's dummy backend provides a device)."""

import pytest

from jambox.audio import devices
from jambox.audio.jackd import JackServer
from jambox.errors import AudioDeviceError


@pytest.fixture(scope="module")
def jack(tmp_path_factory):
    server = JackServer(48000, 128, log_path=tmp_path_factory.mktemp("jack") / "jackd.log").start()
    with server.portaudio():
        yield server


def jack_index():
    return next(d["index"] for d in devices.devices() if "JACK" in d["hostapi_name"])


def test_the_list_shows_the_jack_device_with_its_channels(jack):
    text = devices.list_devices()
    line = next(ln for ln in text.splitlines() if "JACK" in ln)
    assert "system" in line and "(2 in, 2 out, 48000 Hz)" in line
    assert "--list-devices" not in line and "--device" in text


@pytest.mark.parametrize("spec", ["system", "SYSTEM", "system, jack", "jack"])
def test_a_name_substring_finds_the_device(jack, spec):
    assert devices.resolve(spec, "input") == jack_index()
    assert devices.resolve(spec, "output") == jack_index()


def test_an_index_is_taken_as_an_index(jack):
    i = jack_index()
    assert devices.resolve(str(i), "output") == i
    assert devices.resolve(i, "input") == i


def test_empty_means_the_default(jack):
    assert devices.resolve("", "input") is None
    assert devices.resolve(None, "output") is None


def test_no_match_names_the_spec_and_the_devices(jack):
    with pytest.raises(AudioDeviceError, match=r"no input audio device matches 'sistem' \(did you mean 'system'\?\)"):
        devices.resolve("sistem", "input")
    with pytest.raises(AudioDeviceError, match="no audio device number 99"):
        devices.resolve("99", "output")


def test_a_refused_rate_is_named(jack):
    with pytest.raises(AudioDeviceError, match="refuses 96000 Hz"):
        devices.check_settings(jack_index(), "output", 96000, 2)
    devices.check_settings(jack_index(), "output", 48000, 2)  # and the right one passes


def test_without_a_matching_device_the_error_says_what_to_do():
    """Outside the JACK fixture: whatever this machine has, this name is not among it."""
    with pytest.raises(AudioDeviceError, match="no output audio device matches 'no-such-card-4711'"):
        devices.resolve("no-such-card-4711", "output")
    with pytest.raises(ValueError, match="kind must be"):
        devices.resolve("x", "sideways")
