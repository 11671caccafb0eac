"""Build the release tarball: the station frozen with PyInstaller, install.sh, the PC's system files, docs.

Example::

    python packaging/build.py                  # dist/ppa-station-0.1.0-linux-x86_64.tar.gz (`make package`)
    python packaging/build.py --check          # check the inputs only (a second, no PyInstaller)
    python packaging/build.py --allow-dirty    # from uncommitted sources; BUILD-INFO then says dirty=yes

Why a frozen folder: a station PC runs exactly what the line validated, with its own Python, libraries and
Qt, whatever Python the PC has. Why the checks: the tarball names the commit it was built from (BUILD-INFO),
and QA reads that name for years, so a tree with uncommitted changes is refused unless asked for, and a
missing file is named before minutes of freezing, not discovered on the factory floor.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1]
SPEC = "packaging/pyinstaller/ppa-station.spec"
ENTRY = "packaging/pyinstaller/entry.py"
# The PC's system files: packaging/<name> -> <bundle>/share/system/<name>; install.sh puts each in place.
SYSTEM_FILES = (
    "udev/70-ppa-station.rules",
    "systemd/10-ppa-fx1.link",
    "systemd/10-ppa-fx2.link",
    "systemd/60-ppa-slots.network",
    "systemd/ppa-station.service",
    "systemd/ppa-station-gui.service",
    "NetworkManager/90-ppa-station.conf",
    "sysctl/60-ppa-station.conf",
    "desktop/ppa-station.desktop",
    "desktop/ppa-station.svg",
)
# Everything else the bundle carries: source -> bundle path.
FILES = {
    "packaging/install.sh": "install.sh",
    "README.md": "share/doc/README.md",
    "CHANGELOG.md": "share/doc/CHANGELOG.md",
    "docs/integrator.md": "share/doc/integrator.md",
    "docs/install.md": "share/doc/install.md",
    "docs/hsm.md": "share/doc/hsm.md",
    "docs/line-database.md": "share/doc/line-database.md",
    "docs/simulator.md": "share/doc/simulator.md",
    "packaging/README.md": "share/doc/station-pc.md",
    "station.toml": "share/examples/station.toml",
    "firmware_images/README.md": "share/examples/firmware_images/README.md",
    "firmware_images/manifest.json": "share/examples/firmware_images/manifest.json",
    "firmware_images/manifest.json.sig": "share/examples/firmware_images/manifest.json.sig",
    "firmware_images/test-firmware-v1.2.3.bin": "share/examples/firmware_images/test-firmware-v1.2.3.bin",
    "docs/demo-escrow/README.md": "share/demo-escrow/README.md",
    "docs/demo-escrow/DEMO-ONLY-escrow.key": "share/demo-escrow/DEMO-ONLY-escrow.key",
    "packaging/station.production.toml": "share/examples/station.production.toml",
    **{f"packaging/{name}": f"share/system/{name}" for name in SYSTEM_FILES},
}
# What a commit must hold unchanged for the tarball to be "built from <commit>".
TRACKED_INPUTS = (
    "station",
    "packaging",
    "docs",
    "firmware_images",
    "pyproject.toml",
    "station.toml",
    "README.md",
    "CHANGELOG.md",
)
EXECUTABLE = ("install.sh", "station")
NOT_GIT = "(no git checkout)"


class BuildError(Exception):
    """An input the build cannot use; the message names it and what to do."""


@dataclass(frozen=True)
class BuildInfo:
    version: str
    commit: str
    dirty: bool
    commit_time: int

    def render(self) -> str:
        """BUILD-INFO: ``key=value`` lines that install.sh and people read (glibc: the oldest it runs on)."""
        built = datetime.fromtimestamp(self.commit_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = {
            "name": "ppa-station",
            "version": self.version,
            "commit": self.commit,
            "dirty": "yes" if self.dirty else "no",
            "commit_time": built,
            "platform": platform_tag(),
            "glibc": platform.libc_ver()[1] or "unknown",
            "python": platform.python_version(),
            **_tool_versions(),
        }
        return "".join(f"{key}={value}\n" for key, value in fields.items())


def platform_tag() -> str:
    return f"{sys.platform.removesuffix('2')}-{platform.machine()}"


def tarball_name(version: str) -> str:
    return f"ppa-station-{version}-{platform_tag()}.tar.gz"


def check_inputs(source: Path, *, allow_dirty: bool) -> BuildInfo:
    """Every file the bundle needs, one version everywhere, and a committed tree (or ``allow_dirty``)."""
    required = (SPEC, ENTRY, "pyproject.toml", "station/__init__.py", *FILES)
    missing = [name for name in required if not (source / name).is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if missing[1:] else ""
        raise BuildError(f"missing input {missing[0]}{more}")
    version = _version(source)
    commit, dirty, commit_time = _git_state(source)
    if dirty and not allow_dirty:
        raise BuildError(
            f"{_dirty_reason(dirty)}; commit, or pass --allow-dirty "
            "(make package PACKAGE_FLAGS=--allow-dirty)"
        )
    return BuildInfo(version, commit, bool(dirty), commit_time)


def _dirty_reason(dirty: list[str]) -> str:
    if dirty == [NOT_GIT]:
        return "not a git checkout (or no git): the package could not name the commit it is built from"
    names = ", ".join(dirty[:3]) + (" ..." if dirty[3:] else "")
    return f"uncommitted changes in {names}: the package would name a commit its files do not match"


def _version(source: Path) -> str:
    """The version pyproject.toml, station/__init__.py and CHANGELOG.md agree on."""
    try:
        declared = tomllib.loads((source / "pyproject.toml").read_text())["project"]["version"]
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise BuildError(f"pyproject.toml: no [project] version ({exc})") from None
    found = re.search(r'^__version__ = "([^"]+)"', (source / "station/__init__.py").read_text(), re.M)
    in_code = found.group(1) if found else "nothing"
    if in_code != declared:
        raise BuildError(
            f"station/__init__.py says version {in_code}, pyproject.toml {declared}: agree on one"
        )
    if f"## [{declared}]" not in (source / "CHANGELOG.md").read_text():
        raise BuildError(f"CHANGELOG.md has no '## [{declared}]' section: say what this release changes")
    return str(declared)


def _git_state(source: Path) -> tuple[str, list[str], int]:
    """HEAD's commit, the changed or untracked inputs, and HEAD's commit time (the archive's file times)."""
    head = _git(source, "log", "-1", "--format=%H %ct")
    if head is None:
        return "unknown", [NOT_GIT], int(time.time())
    commit, commit_time = head.split()
    status = _git(source, "status", "--porcelain", "--untracked-files=all", "--", *TRACKED_INPUTS) or ""
    return commit, [line[3:] for line in status.splitlines()], int(commit_time)


def _git(source: Path, *args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    # safe.directory: CI clones as one user and builds as root; git would refuse to read the clone.
    command = ["git", "-c", f"safe.directory={source}", "-C", str(source), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.rstrip("\n") if done.returncode == 0 else None


def _tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pyinstaller", "PySide6-Essentials"):
        try:
            found[name.lower()] = version(name)
        except PackageNotFoundError:
            found[name.lower()] = "none"
    return found


def freeze(source: Path, work: Path) -> Path:
    """Run PyInstaller on the spec; the onedir folder it made (``station`` and ``_internal/``)."""
    for module, extra in (("PyInstaller", "package"), ("PySide6", "gui")):
        if _missing(module):
            raise BuildError(
                f"{module} is not installed in {sys.executable}: pip install -e '.[{extra}]' "
                "(make package installs it)"
            )
    log = work / "pyinstaller.log"
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(work / "dist"),
        "--workpath",
        str(work / "pyinstaller"),
        str(source / SPEC),
    ]
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=source, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
        raise BuildError(f"PyInstaller failed (exit {done.returncode}); the end of {log}:\n{tail}")
    return work / "dist" / "station"


def _missing(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is None


def stage(source: Path, frozen: Path | None, folder: Path, info: BuildInfo) -> None:
    """Lay out the bundle in ``folder``: the frozen station (if any), FILES and BUILD-INFO."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if frozen is not None:
        shutil.copytree(frozen, folder, symlinks=True, dirs_exist_ok=True)
    for name, target in FILES.items():
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, folder / target)
    for name in EXECUTABLE:
        if (folder / name).exists():
            (folder / name).chmod(0o755)
    (folder / "BUILD-INFO").write_text(info.render())


def write_tarball(folder: Path, tarball: Path, mtime: int) -> None:
    """A gzip tar of ``folder`` with sorted entries, root ownership and the commit's time on every file."""

    def normalize(entry: tarfile.TarInfo) -> tarfile.TarInfo:
        entry.uid = entry.gid = 0
        entry.uname = entry.gname = "root"
        entry.mtime = mtime
        entry.mode = 0o755 if entry.isdir() or entry.mode & 0o111 else 0o644
        return entry

    partial = tarball.with_name(tarball.name + ".partial")
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=mtime) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.add(folder, arcname=folder.name, filter=normalize)
    partial.replace(tarball)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    tarball.with_name(tarball.name + ".sha256").write_text(f"{digest}  {tarball.name}\n")


def build(source: Path, out: Path, info: BuildInfo) -> Path:
    if not sys.platform.startswith("linux"):
        raise BuildError(f"the station package is built on Linux (the PC it runs on), not {sys.platform}")
    work = source / "build" / "package"
    work.mkdir(parents=True, exist_ok=True)
    frozen = freeze(source, work)
    folder = work / "stage" / f"ppa-station-{info.version}"
    stage(source, frozen, folder, info)
    out.mkdir(parents=True, exist_ok=True)
    tarball = out / tarball_name(info.version)
    write_tarball(folder, tarball, info.commit_time)
    return tarball


def _size(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check the inputs, build nothing")
    parser.add_argument("--allow-dirty", action="store_true", help="build from uncommitted sources")
    parser.add_argument("--source", type=Path, default=SOURCE, help="source tree (default: this checkout)")
    parser.add_argument("--out", type=Path, help="output folder (default: <source>/dist)")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    started = time.monotonic()
    try:
        info = check_inputs(source, allow_dirty=args.allow_dirty)
        if args.check:
            print(f"build: inputs OK for ppa-station {info.version} ({info.commit[:12]}, dirty={info.dirty})")
            return 0
        tarball = build(source, args.out or source / "dist", info)
    except BuildError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 2
    unpacked = _size(source / "build/package/stage" / f"ppa-station-{info.version}")
    print(
        f"build: {tarball} {_size(tarball):.1f} MB ({unpacked:.0f} MB unpacked), "
        f"{time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    os.umask(0o022)  # the files in the tarball are readable by the station user, writable by nobody else
    sys.exit(main())
