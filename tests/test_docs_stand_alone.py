"""The repository stands alone: nothing points outside it, and the docs it points to exist.

Whoever clones the repository gets no ``../shared`` folder next to it, so the design, the record and
command-line contracts and the device references the code follows live in ``docs/`` (architecture.md,
records.md, cli.md, ui.md, reference/). A pointer to ``../shared`` in any tracked file is a dead end for
that reader; so is a ``docs/...`` path that names no file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
SCOPE_DIRS = ("docs", "station", "tests", "bench", "packaging")
SCOPE_FILES = ("README.md", "Makefile", "pyproject.toml")
OUTSIDE = b"../shared"
SKIP_PARTS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", "build", "dist"}
DOC_PATH = re.compile(r"(?<![\w./-])docs/[\w./-]+\.md\b")  # ours: not another repository's .../docs/


def in_scope(path: str) -> bool:
    return path in SCOPE_FILES or path.split("/", 1)[0] in SCOPE_DIRS


def tracked_files() -> list[str]:
    """Tracked files in scope (``git ls-files``); without git, every file on disk in scope."""
    git = shutil.which("git")
    try:
        if git is None:
            raise FileNotFoundError("git")
        listed = subprocess.run(
            [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode("utf-8")
        paths = [path for path in listed.split("\0") if path]
    except (OSError, subprocess.SubprocessError):
        paths = [
            found.relative_to(ROOT).as_posix()
            for found in ROOT.rglob("*")
            if found.is_file() and not SKIP_PARTS.intersection(found.relative_to(ROOT).parts)
        ]
    return sorted(path for path in paths if in_scope(path) and (ROOT / path).is_file())


def test_the_scope_is_not_empty() -> None:
    files = tracked_files()
    assert "README.md" in files
    assert any(path.startswith("station/") for path in files)
    assert any(path.startswith("docs/") for path in files)


def test_no_tracked_file_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path == THIS:
            continue
        for number, line in enumerate((ROOT / path).read_bytes().splitlines(), start=1):
            if OUTSIDE in line:
                offenders.append(f"{path}:{number}: {line.decode('utf-8', 'replace').strip()[:120]}")
    assert not offenders, (
        "these lines point to ../shared, which a clone of the repository does not have; point them to "
        "docs/architecture.md, docs/records.md, docs/cli.md, docs/ui.md or docs/reference/ instead:\n"
        + "\n".join(offenders)
    )


def test_docs_named_in_readme_and_docs_exist() -> None:
    missing = []
    for path in ["README.md", *(p for p in tracked_files() if p.startswith("docs/") and p.endswith(".md"))]:
        for name in sorted(set(DOC_PATH.findall((ROOT / path).read_text("utf-8")))):
            if not (ROOT / name).is_file():
                missing.append(f"{path} names {name}")
    assert not missing, "documents named but not in the repository:\n" + "\n".join(missing)
