"""The frozen station's entry point: the same ``station`` command line as the installed console script.

Example::

    pyinstaller packaging/pyinstaller/ppa-station.spec     # packaging/build.py runs this for `make package`

PyInstaller starts a script, not a console-script entry point, so this file is the two lines the
``station`` script of ``pip install`` would run.
"""

import sys

from station.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
