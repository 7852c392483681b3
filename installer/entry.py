"""The bundle's entry point: the same ``watchfloor`` command as the console script."""

from app.cli import main

raise SystemExit(main())
