"""Where the state file lives.

The order, most specific first: an explicit path (``--state F``), then ``memory.state_file`` from the
configuration, then ``$STATE_DIRECTORY/state.db`` (systemd's ``StateDirectory=jambox`` sets it to
/var/lib/jambox for the service), then the user's data directory (``~/.local/share/jambox/state.db``
on Linux, via platformdirs). Reading the environment happens here, when a path is asked for, never at
import time, so a test or a second process can point it elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_FILE_NAME = "state.db"


def default_state_path(environ: dict[str, str] | None = None) -> Path:
    """The state file when neither ``--state`` nor the configuration names one."""
    env = os.environ if environ is None else environ
    state_dir = env.get("STATE_DIRECTORY", "")
    if state_dir:
        # systemd joins several StateDirectory= entries with ':'; the first is ours.
        return Path(state_dir.split(":")[0]) / STATE_FILE_NAME
    from platformdirs import user_data_dir

    return Path(user_data_dir("jambox", appauthor=False)) / STATE_FILE_NAME


def state_path(explicit: str | os.PathLike | None = None, configured: str | None = None,
               environ: dict[str, str] | None = None) -> Path:
    """The state file to use: ``explicit`` (``--state``) over ``configured`` (``memory.state_file``) over the default."""
    for candidate in (explicit, configured):
        if candidate is not None and str(candidate) != "":
            return Path(candidate).expanduser()
    return default_state_path(environ)
