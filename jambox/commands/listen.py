"""``jambox listen INPUT``: what the listener hears in a bass recording, as JSON or in plain words.

The file is fed to the same streaming listener the box uses live, hop by hop; every note carries
the stream time at which the listener knew it (``emitted_at``).
"""

from __future__ import annotations

import json

from jambox.events import PITCH_CLASSES

HELP = "hear a bass recording (WAV, FLAC or MIDI): notes, beats, tempo, meter, key, loop and feel"


def add_arguments(parser) -> None:
    parser.add_argument("input", metavar="INPUT", help="bass audio file (any rate, mono or stereo) or MIDI file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of plain words")


def listen_file(path: str, config) -> dict:
    from jambox.audio.files import load_bass
    from jambox.listen.offline import hear

    sr = config.audio.sample_rate
    bass = load_bass(path, sr, soundfont=config.performer.soundfont)
    result = hear(bass, sr, config.listener)
    del result["onsets"]  # internal: the bench scores onset latency from these
    for n in result["notes"]:
        del n["first_emitted_at"]
    return result


def describe(result: dict) -> str:
    from jambox.listen.offline import describe_heard

    heard = describe_heard(result["tempo_bpm"], result["meter"], result["key"], result["loop_bars"],
                           result["swing"], result["offset_ms"])
    lines = [
        f"Tempo {heard}.",
        f"{len(result['notes'])} notes, {len(result['beats'])} beats, {len(result['downbeats'])} downbeats.",
    ]
    if result["section_starts"]:
        lines.append("New riff at " + ", ".join(f"{t:.2f} s" for t in result["section_starts"]) + ".")
    for n in result["notes"][:16]:
        name = PITCH_CLASSES[n["pitch"] % 12] + str(n["pitch"] // 12 - 1)
        lines.append(f"  {n['onset']:8.3f} s  {name:4s} velocity {n['velocity']:3d}  "
                     f"(known at {n['emitted_at']:.3f} s)")
    if len(result["notes"]) > 16:
        lines.append(f"  ... and {len(result['notes']) - 16} more (--json for all)")
    return "\n".join(lines)


def run(args, config) -> int:
    result = listen_file(args.input, config)
    if args.json:
        print(json.dumps(result))
    else:
        print(describe(result))
    return 0
