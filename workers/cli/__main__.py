"""`python -m workers.cli`."""

from workers.cli.main import main

raise SystemExit(main())
