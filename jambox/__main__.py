from jambox.cli import main

raise SystemExit(main())
