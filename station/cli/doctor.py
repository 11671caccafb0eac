"""``station doctor``: is this PC ready for its first unit? One line per check, exit 0 only if all pass.

>>> import contextlib, io
>>> with contextlib.redirect_stdout(io.StringIO()) as out:              # exit 1: a check did not pass
...     code = doctor(argparse.Namespace(config="no-such.toml", json=False))
>>> print(code, out.getvalue().strip())
1 ✖ config: no-such.toml: configuration file not found. Fix: Correct the file ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from station.cli.options import DEFAULT_CONFIG, Subparsers


def add_parser(commands: Subparsers) -> None:
    parser = commands.add_parser(
        "doctor", help="check that this PC is ready for the first unit (one line per check)"
    )
    parser.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"station configuration (default ./{DEFAULT_CONFIG})"
    )
    parser.add_argument("--json", action="store_true", help="the results as one JSON object")
    parser.set_defaults(handler=doctor)


def doctor(args: argparse.Namespace) -> int:
    from station.app.doctor import passed, run_checks
    from station.sim import install

    install()  # a demo station's simulated slots are a kind the configuration check must know
    checks = run_checks(Path(args.config))
    ok = passed(checks)
    if args.json:
        json.dump({"ok": ok, "checks": [check.as_dict() for check in checks]}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for check in checks:
            fix = f". Fix: {check.fix}" if check.ok is not True and check.fix else ""
            print(f"{check.symbol} {check.name}: {check.detail}{fix}")
        failed = sum(check.ok is not True for check in checks)
        print("ready for the first unit" if ok else f"{failed} of {len(checks)} checks did not pass")
    return 0 if ok else 1
