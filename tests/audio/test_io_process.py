"""The audio process's protocol without a device: a bad setup is answered, a closed stdin ends it."""

import json
import subprocess
import sys


def run_io(stdin: str):
    return subprocess.run([sys.executable, "-m", "jambox.audio.io_process"], input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_a_bad_setup_line_is_answered_with_an_error():
    out = run_io("this is not json\n")
    assert out.returncode == 0
    reply = json.loads(out.stdout.splitlines()[0])
    assert reply["type"] == "AudioDeviceError" and "bad setup line" in reply["error"]


def test_the_process_ends_when_the_engine_closes_its_stdin():
    out = run_io("")
    assert out.returncode == 0 and out.stdout == ""
