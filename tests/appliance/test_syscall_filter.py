"""The unit's SystemCallFilter= allows every system call `jambox run` makes, and RestrictAddressFamilies= every
socket it opens (traced for real with strace).

A call outside the filter fails with EPERM under systemd (SystemCallErrorNumber=EPERM), which would
show up on the box as an odd error deep in a library; here the whole start, a few seconds of playing
on JACK's dummy backend and the stop are traced, and every call made is looked up in the filter's
set as `systemd-analyze syscall-filter` expands it on this systemd.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
UNIT = Path(__file__).resolve().parents[2] / "systemd" / "jambox.service"


def unit_filter() -> str:
    lines = [ln.split("=", 1)[1].strip() for ln in UNIT.read_text().splitlines() if ln.startswith("SystemCallFilter=")]
    assert lines == ["@system-service"], lines  # the expansion below handles one allow-list set
    return lines[0]


def expand(group: str) -> set[str]:
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())

    def members(g: str, seen: set[str]) -> set[str]:
        names: set[str] = set()
        for m in groups.get(g, []):
            if m.startswith("@"):
                if m not in seen:
                    seen.add(m)
                    names |= members(m, seen)
            else:
                names.add(m)
        return names

    return members(group, {group})


def test_every_system_call_of_a_real_run_is_allowed(tmp_path):
    for tool in ("strace", "jackd", "systemd-analyze"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt install strace jackd2 systemd)")
    from jambox.audio.jackd import JackServer

    cfg = tmp_path / "jambox.toml"
    cfg.write_text('[audio]\ninput_device = "jack"\noutput_device = "jack"\n[controls]\nkeyboard = false\n')
    trace = tmp_path / "trace.txt"
    with JackServer(48000, 128, log_path=tmp_path / "jackd.log") as server:
        r = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), sys.executable, "-m", "jambox",
                            "--config", str(cfg), "run", "--no-keyboard", "--state", str(tmp_path / "state.db"),
                            "--duration", "2"], env=server.env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    text = trace.read_text(errors="replace")
    used = set(re.findall(r"^\d+\s+(\w+)\(", text, re.MULTILINE))
    assert len(used) > 30, text[:2000]  # a real trace, not an empty one
    missing = sorted(used - expand(unit_filter()))
    assert not missing, f"system calls outside SystemCallFilter={unit_filter()}: {missing}"
    families = set(re.findall(r"^\d+\s+socket(?:pair)?\((AF_\w+)", text, re.MULTILINE))
    assert families, "no socket at all: the notify socket and JACK's should be there"
    allowed = set(next(ln for ln in UNIT.read_text().splitlines()
                       if ln.startswith("RestrictAddressFamilies=")).split("=", 1)[1].split())
    assert families <= allowed, f"sockets outside RestrictAddressFamilies={' '.join(sorted(allowed))}: {families}"
