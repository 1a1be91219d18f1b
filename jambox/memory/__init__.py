"""The box's memory: a SQLite state file with sessions, actions, kept parts, riffs and taste.

How the session (on the logic thread) uses it::

    memory = Memory.open(path, fallback_to_memory=True)  # never stops the box; memory.problem says why
    memory.start_session({"source": "run", "sample_rate": 48000})  # optional; the first write starts one
    taste = memory.taste(heard.meter, heard.tempo_bpm)  # once the listener knows them; also tells memory
    start = start_controls(initial, taste, config.memory.taste_weight)  # which bucket this session teaches
    memory.note_controls(settings, now)  # whenever the controls change (buffered, cheap)
    aid = memory.record_action("softer", source="gpio", stream_time=now, control=None, value=None,
                               effect="pulled the hi-hat back", settings=settings_after, riff=fp)
    # ... light the LED only now: the action is on disk. A StateError means it is not: don't.
    fp = riff_fingerprint(heard.notes, heard.beat_period, heard.loop_bars, heard.meter)
    kept = memory.recall(fp)  # on a new riff: what was kept for it (or a similar one), or None
    memory.save_kept(fp, "drums", pattern, settings)  # KEEP
    memory.let_go_kept(fp, "drums")  # LET GO of a kept part
    memory.record_suggestion(fp, "fill", adopted, settings, how="let_go")  # how: keep, let_go, softer, expired...
    memory.save_session_state(state)  # on change, before the action it follows (it commits with it)
    found = memory.resumable_state(config.memory.resume_within_s)  # at start: a crashed session's state
    memory.flush()  # now and then (every hop is fine): writes what is buffered once it is due
    memory.end_session(now)  # or close(): folds the session into the taste

``settings`` are plain dicts (or the ControlState itself) of the controls in force after the
change: energy, dissonance, surprise, level, drums_level, keys_level, and, where the generator
knows them, syncopation, busyness, keys_density; these are what taste learns. ``playing: False``
marks time the box was silent, which teaches nothing. ``meter`` and ``tempo_bpm`` may ride along.
"""

from jambox.memory.fingerprint import riff_fingerprint, riff_similarity
from jambox.memory.memory import Memory
from jambox.memory.paths import default_state_path, state_path
from jambox.memory.taste import start_controls

__all__ = ["Memory", "riff_fingerprint", "riff_similarity", "start_controls", "state_path", "default_state_path"]
