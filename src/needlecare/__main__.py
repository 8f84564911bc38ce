"""``python -m needlecare``: the same as the ``needlecare`` console script."""

from needlecare.cli import main

raise SystemExit(main())
