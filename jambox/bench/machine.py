"""A description of the machine the figures came from."""

from __future__ import annotations

import os
import platform


def describe(cpuinfo: str = "/proc/cpuinfo") -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open(cpuinfo) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        fields = {}
    fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
    # x86: "model name"; a Raspberry Pi: "Model" (e.g. "Raspberry Pi 4 Model B Rev 1.4"), else "Hardware"
    for key in ("model name", "model", "hardware"):
        if fields.get(key) and not fields[key].isdigit():
            cpu = fields[key]
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }
