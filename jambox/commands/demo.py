"""``jambox demo``: the bundled bass riff through the whole chain, with no hardware."""

from __future__ import annotations

from jambox.commands.accompany import add_run_options, print_summary, run_with
from jambox.demo_riff import AUDIO_FILE

HELP = "play the bundled bass riff through the whole box and write jambox-demo.wav and jambox-demo.mid"


def add_arguments(parser) -> None:
    add_run_options(parser, default_wav="jambox-demo.wav", default_midi="jambox-demo.mid")
    parser.set_defaults(state=None)


def run(args, config) -> int:
    summary = run_with(args, config, str(AUDIO_FILE), default_state_temp=True)
    print_summary(summary, args.json)
    return 0
