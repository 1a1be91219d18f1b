"""Is the jambox service running, and if not, what did it last say?

``systemctl show`` gives the unit's state and the last ``STATUS=`` the box sent over sd_notify
(jambox.appliance.notify), which for a failed start is the error itself ("cannot start: ..."), so
the doctor can repeat the box's own words next to its exit status (the number the error LED blinks).
"""

from __future__ import annotations

import shutil
import subprocess

from jambox.doctor import Check, Context, ok, problem, skip

UNIT = "jambox.service"
PROPERTIES = ("LoadState", "ActiveState", "SubState", "Result", "ExecMainStatus", "StatusText", "NRestarts",
              "UnitFileState")
EXIT_MEANING = {1: "an unexpected error", 2: "the configuration", 3: "an input file", 4: "the model or soundfont",
                5: "an audio, MIDI or GPIO device", 6: "the state file", 7: "training"}


def service_state(systemctl: str) -> dict[str, str] | None:
    """The unit's properties, or None when systemd is not running here (a container, a chroot)."""
    try:
        r = subprocess.run([systemctl, "show", UNIT, "-p", ",".join(PROPERTIES)], capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    props = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    return props if "LoadState" in props else None


def _last_words(p: dict[str, str]) -> str:
    status = p.get("ExecMainStatus", "0")
    text = f"exit status {status}"
    if status.isdigit() and int(status) in EXIT_MEANING and status != "0":
        text += f": {EXIT_MEANING[int(status)]}, {status} blinks on the error LED"
    if p.get("StatusText"):
        text += f"; it last said: {p['StatusText']}"
    return text


def check_service(ctx: Context) -> Check:
    name = "service"
    if str(ctx.root) != "/":
        return skip(name, f"looking at {ctx.root}, not at this machine's systemd")
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return skip(name, "no systemctl here")
    p = service_state(systemctl)
    if p is None:
        return skip(name, "systemd is not running here (a container or chroot)")
    if p.get("LoadState") == "not-found":
        return skip(name, f"{UNIT} is not installed (deploy.sh installs it)")
    restarts = int(p.get("NRestarts", "0") or 0)
    active, sub = p.get("ActiveState", ""), p.get("SubState", "")
    journal = "journalctl -u jambox -b -n 50 shows why; fix what the other checks report"
    if active == "active":
        extra = f" (restarted {restarts} times since it was started)" if restarts else ""
        return ok(name, f"{UNIT} is running{extra}: {p.get('StatusText') or sub}")
    if active in ("activating", "deactivating") and sub == "auto-restart":
        return problem(name, f"{UNIT} keeps failing and restarting ({restarts} restarts; {_last_words(p)})",
                       f"{journal}; the service retries by itself.")
    if active == "activating":
        return ok(name, f"{UNIT} is starting: {p.get('StatusText') or sub}")
    if active == "failed":
        return problem(name, f"{UNIT} has failed ({p.get('Result', 'unknown')}; {_last_words(p)})",
                       f"{journal}, then sudo systemctl restart jambox (jambox-retry.service also tries again "
                       "every 5 minutes).")
    if p.get("UnitFileState") == "enabled":
        return ok(name, f"{UNIT} is installed and enabled, not running now (it starts at boot)")
    return problem(name, f"{UNIT} is installed but not enabled, so it will not start at boot",
                   "sudo systemctl enable --now jambox")
