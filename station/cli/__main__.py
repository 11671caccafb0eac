"""``python -m station.cli``: the same command line as the ``station`` console script."""

import sys

from station.cli.main import main

if __name__ == "__main__":  # worker processes (records verify on every core) import this module too
    sys.exit(main())
