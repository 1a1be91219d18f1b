"""The appliance's figures: how long the service takes from start to READY, and how it keeps the watchdog.

``jambox run`` is started as systemd starts the service (:mod:`jambox.appliance.ready`: a real
sd_notify socket, ``WATCHDOG_USEC`` set) against a private JACK server on the dummy backend, so the
whole start-up is real: imports, the model loaded, the memory opened, the stream opened and running.
Measured: seconds from exec to READY=1 (what ``TimeoutStartSec=`` must cover; on a Pi expect several
times this machine's figure) and to the first STATUS (Python and the imports; the rest is the model,
the memory, the soundfont and the stream), watchdog pings per second while it plays (the logic thread feeds it),
seconds from SIGTERM to exit (what ``TimeoutStopSec=`` must cover), and whether it said STOPPING=1.
Also the time ``jambox doctor`` takes, since deploy.sh runs it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WATCHDOG_USEC = 2_000_000  # 2 s: the bench expects a ping about every second


def _run_config(tmp: Path) -> Path:
    cfg = tmp / "jambox.toml"
    cfg.write_text('[audio]\ninput_device = "jack"\noutput_device = "jack"\n[controls]\nkeyboard = false\n')
    return cfg


def start_to_ready(repeats: int, hold_s: float) -> dict:
    from jambox.appliance.ready import wait_for_ready
    from jambox.audio.jackd import JackServer

    times, first, pings, stops, stopping, exits = [], [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="jambox-bench-appliance-") as d:
        tmp = Path(d)
        cfg = _run_config(tmp)
        with JackServer(48000, 128, log_path=tmp / "jackd.log") as server:
            for i in range(repeats):
                cmd = [sys.executable, "-m", "jambox", "--config", str(cfg), "run", "--no-keyboard",
                       "--state", str(tmp / f"state-{i}.db"), "--duration", str(hold_s + 120)]
                r = wait_for_ready(cmd, timeout=120, hold=hold_s, watchdog_usec=WATCHDOG_USEC, env=server.env)
                if not r.ready:
                    tail = " | ".join(r.output_tail.strip().splitlines()[-3:])
                    return {"error": f"jambox run did not become ready (exit {r.exit_code}): {tail}"}
                times.append(r.ready_s)
                first.append(r.message_s[0])  # the first STATUS: the interpreter and imports are done
                pings.append(r.watchdog_pings / hold_s if hold_s > 0 else 0.0)
                stops.append(r.stop_s)
                stopping.append(r.stopping_sent)
                exits.append(r.exit_code)
    return {
        "start_to_ready_s_median": round(statistics.median(times), 2),
        "start_to_ready_s_max": round(max(times), 2),
        "start_to_ready_runs": repeats,
        "start_to_first_status_s_median": round(statistics.median(first), 2),
        "watchdog_pings_per_s": round(statistics.median(pings), 2),
        "watchdog_interval_s": WATCHDOG_USEC / 1e6,
        "sigterm_to_exit_s_max": round(max(stops), 2),
        "stopping_sent": all(stopping),
        "exit_codes": sorted(set(exits)),
    }


def doctor_seconds() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jambox", "doctor", "--json"], capture_output=True, timeout=120)
    return round(time.perf_counter() - t0, 2)


def run(quick: bool) -> dict:
    figures = {"doctor_s": doctor_seconds()}
    try:
        figures |= start_to_ready(repeats=1 if quick else 3, hold_s=2.0 if quick else 5.0)
    except Exception as e:  # noqa: BLE001 - no jackd here: say so in the figures, as the other areas do
        figures["error"] = f"{type(e).__name__}: {e}"
    return figures
