"""One module per ``jambox`` subcommand: ``HELP``, ``add_arguments(parser)`` and ``run(args, config)``."""
