"""``python -m station.cli``: the same command line as the ``station`` console script."""

import sys

from station.cli.main import main

sys.exit(main())
