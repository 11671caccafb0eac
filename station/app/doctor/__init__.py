"""``station doctor``: every check a line needs before its first unit, as structured results.

The command line (``cli/doctor.py``) prints them one line each; the operator window's station-check view
shows the same ``Check`` list. One module per group of checks; ``run.py`` puts them in order.

>>> from pathlib import Path; [check.ok for check in run_checks(Path("no-such.toml"))]   # nothing else runs
[False]
"""

from station.app.doctor.result import Check, Environment, passed
from station.app.doctor.run import run_checks

__all__ = ["Check", "Environment", "passed", "run_checks"]
