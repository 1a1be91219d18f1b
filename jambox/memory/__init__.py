"""The box's memory: a SQLite state file with sessions, actions, kept parts, riffs and taste."""

from jambox.memory.fingerprint import riff_fingerprint, riff_similarity
from jambox.memory.memory import Memory
from jambox.memory.paths import default_state_path, state_path

__all__ = ["Memory", "riff_fingerprint", "riff_similarity", "state_path", "default_state_path"]
