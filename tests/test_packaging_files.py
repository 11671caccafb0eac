"""The release package's parts that can be checked in seconds, without PyInstaller (issue 9).

The frozen build itself is exercised by ``make package-smoke`` in CI. Here: the desktop entry and the
systemd units parse and point where ``install.sh`` puts the program; ``install.sh`` lays out a staging
root, is idempotent, keeps edited ``/etc`` files and upgrades untouched ones; ``packaging/build.py``
refuses a missing input, disagreeing versions and an uncommitted tree, each with one clear line.
"""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
INSTALLED_PROGRAM = "/opt/ppa-station/current/station"
ETC_FILES = (
    "etc/udev/rules.d/70-ppa-station.rules",
    "etc/systemd/network/10-ppa-fx1.link",
    "etc/systemd/network/10-ppa-fx2.link",
    "etc/systemd/network/60-ppa-slots.network",
    "etc/NetworkManager/conf.d/90-ppa-station.conf",
    "etc/sysctl.d/60-ppa-station.conf",
    "etc/systemd/system/ppa-station.service",
)
USR_FILES = (
    "usr/local/lib/systemd/user/ppa-station-gui.service",
    "usr/local/share/applications/ppa-station.desktop",
    "usr/local/share/icons/hicolor/scalable/apps/ppa-station.svg",
)


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("packaging_build", PACKAGING / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build = _load_build()


def ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def make_bundle(folder: Path, version: str = "0.1.0") -> Path:
    """An unpacked tarball as build.py stages it, with a stand-in for the frozen program."""
    bundle = folder / f"ppa-station-{version}"
    build.stage(REPO, None, bundle, build.BuildInfo(version, "0" * 40, False, 1_700_000_000))
    (bundle / "station").write_text(f"#!/bin/sh\necho 'station {version}'\n")
    (bundle / "station").chmod(0o755)
    return bundle


USB_ID = "1fc9:0117"  # a made-up PPA id for the tests (the real ones are not published)


def install(bundle: Path, *args: str, usb_id: str | None = USB_ID) -> subprocess.CompletedProcess[str]:
    """install.sh with ``args`` (and ``--usb-id``, which a fresh install needs, unless None)."""
    ids = ["--usb-id", usb_id] if usb_id is not None else []
    command = ["bash", str(bundle / "install.sh"), *ids, *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def actions(output: str) -> dict[str, str]:
    """install.sh's report: path -> what happened to it."""
    found = {}
    for line in output.splitlines():
        action, _, rest = line.partition(" ")
        if action in {"install", "update", "unchanged", "kept", "link"}:
            found[rest.strip().split(" ")[0]] = action
    return found


def test_desktop_entry_starts_the_kiosk_unit_with_the_shipped_icon() -> None:
    entry = ini(PACKAGING / "desktop" / "ppa-station.desktop")["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"
    assert entry["Name"] and entry["Categories"].endswith(";")
    assert "systemctl --user start ppa-station-gui.service" in entry["Exec"]
    assert (PACKAGING / "systemd" / "ppa-station-gui.service").is_file()
    assert (PACKAGING / "desktop" / f"{entry['Icon']}.svg").is_file()
    icon = ET.parse(PACKAGING / "desktop" / "ppa-station.svg").getroot()  # noqa: S314 - our own file
    assert icon.tag.endswith("svg") and icon.get("viewBox") == "0 0 64 64"


def test_kiosk_unit_runs_the_window_and_restarts_it_on_failure() -> None:
    unit = ini(PACKAGING / "systemd" / "ppa-station-gui.service")
    service = unit["Service"]
    program, verb, *options = service["ExecStart"].split()
    assert (program, verb) == (INSTALLED_PROGRAM, "gui")
    assert options[0] == "--config" and options[1].endswith("station.toml")
    assert service["Restart"] == "on-failure"
    assert "2" in service["RestartPreventExitStatus"].split()  # a config error: no restart loop
    assert unit["Install"]["WantedBy"] == "graphical-session.target"
    assert unit["Unit"]["PartOf"] == "graphical-session.target"


def test_headless_service_runs_the_installed_program() -> None:
    service = ini(PACKAGING / "systemd" / "ppa-station.service")["Service"]
    assert service["ExecStart"].split()[:2] == [INSTALLED_PROGRAM, "run"]


def test_dry_run_lists_every_file_and_writes_nothing(tmp_path: Path) -> None:
    bundle, root = make_bundle(tmp_path / "unpacked"), tmp_path / "root"
    done = install(bundle, "--dry-run", "--prefix", str(root))
    assert done.returncode == 0, done.stderr
    listed = actions(done.stdout)
    expected = {f"{root}/{name}" for name in (*ETC_FILES, *USR_FILES)} | {
        f"{root}/opt/ppa-station/0.1.0",
        f"{root}/opt/ppa-station/current",
        f"{root}/usr/local/bin/station",
    }
    assert set(listed) == expected
    assert set(listed.values()) <= {"install", "link"}
    assert not root.exists()


def test_install_lays_out_the_root_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    bundle, root = make_bundle(tmp_path / "unpacked"), tmp_path / "root"
    assert install(bundle, f"--prefix={root}").returncode == 0
    for name in (*ETC_FILES, *USR_FILES):
        assert (root / name).is_file(), name
        assert (root / name).stat().st_mode & 0o777 == 0o644
    assert (root / "opt/ppa-station/current").readlink() == Path("0.1.0")
    assert (root / "usr/local/bin/station").readlink() == Path(INSTALLED_PROGRAM)
    program = root / INSTALLED_PROGRAM.lstrip("/")
    version = subprocess.run([program, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout == "station 0.1.0\n"
    assert (root / "opt/ppa-station/0.1.0/share/doc/integrator.md").is_file()
    again = install(bundle, "--prefix", str(root))
    assert again.returncode == 0, again.stderr
    assert set(actions(again.stdout).values()) == {"unchanged"}


def test_an_edited_etc_file_is_kept_and_the_shipped_one_put_beside_it(tmp_path: Path) -> None:
    bundle, root = make_bundle(tmp_path / "unpacked"), tmp_path / "root"
    install(bundle, "--prefix", str(root))
    rules = root / "etc/udev/rules.d/70-ppa-station.rules"
    shipped = rules.read_text()
    edited = shipped + 'SUBSYSTEM=="hidraw", ATTRS{idVendor}=="1fc9", MODE="0660"  # added on this line\n'
    rules.write_text(edited)
    again = install(bundle, "--prefix", str(root))
    assert actions(again.stdout)[str(rules)] == "kept"
    assert rules.read_text() == edited
    assert rules.with_name(rules.name + ".ppa-station-new").read_text() == shipped
    third = install(bundle, "--prefix", str(root))
    assert actions(third.stdout)[str(rules)] == "kept"


def test_upgrade_installs_beside_moves_current_and_updates_untouched_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    install(make_bundle(tmp_path / "old"), "--prefix", str(root))
    newer = make_bundle(tmp_path / "new", version="0.2.0")
    sysctl = newer / "share/system/sysctl/60-ppa-station.conf"
    sysctl.write_text(sysctl.read_text() + "# a line the new release adds\n")
    done = install(newer, "--prefix", str(root))
    assert done.returncode == 0, done.stderr
    assert actions(done.stdout)[f"{root}/etc/sysctl.d/60-ppa-station.conf"] == "update"
    assert (root / "etc/sysctl.d/60-ppa-station.conf").read_text() == sysctl.read_text()
    assert (root / "opt/ppa-station/current").readlink() == Path("0.2.0")
    assert (root / "opt/ppa-station/0.1.0/station").is_file()  # kept for a rollback
    rollback = install(root / "opt/ppa-station/0.1.0", "--prefix", str(root))
    assert rollback.returncode == 0, rollback.stderr
    assert (root / "opt/ppa-station/current").readlink() == Path("0.1.0")


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--frobnicate"], "unknown option --frobnicate"), (["--prefix"], "--prefix needs a folder")],
)
def test_install_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    done = install(make_bundle(tmp_path), *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_install_refuses_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    shutil.copy(PACKAGING / "install.sh", tmp_path / "install.sh")
    done = install(tmp_path, "--dry-run")
    assert done.returncode == 2
    assert "not an unpacked ppa-station tarball" in done.stderr


def fake_source(folder: Path) -> Path:
    """The build's inputs copied from this checkout (enough for ``--check``)."""
    names = (*build.FILES, build.SPEC, build.ENTRY, "pyproject.toml", "station/__init__.py")
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, folder / name)
    return folder


def check(source: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(PACKAGING / "build.py"), "--check", "--source", str(source), *extra]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def test_build_check_accepts_this_checkout() -> None:
    done = check(REPO, "--allow-dirty")  # other work may be in progress in a developer's tree
    assert done.returncode == 0, done.stderr
    assert "inputs OK for ppa-station" in done.stdout


def test_build_refuses_a_missing_input_naming_it(tmp_path: Path) -> None:
    source = fake_source(tmp_path)
    (source / "packaging/udev/70-ppa-station.rules").unlink()
    done = check(source, "--allow-dirty")
    assert done.returncode == 2
    assert done.stderr.strip() == "build: missing input packaging/udev/70-ppa-station.rules"


def test_build_refuses_disagreeing_versions(tmp_path: Path) -> None:
    source = fake_source(tmp_path)
    init = source / "station/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.'))
    done = check(source, "--allow-dirty")
    assert done.returncode == 2
    assert "station/__init__.py says version 9." in done.stderr and "agree on one" in done.stderr


def test_build_refuses_sources_outside_git_unless_allowed(tmp_path: Path) -> None:
    source = fake_source(tmp_path)
    refused = check(source)
    assert refused.returncode == 2
    assert "not a git checkout" in refused.stderr and "--allow-dirty" in refused.stderr
    assert check(source, "--allow-dirty").returncode == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_build_refuses_uncommitted_changes_unless_allowed(tmp_path: Path) -> None:
    source = fake_source(tmp_path)
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "inputs"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    assert check(source).returncode == 0
    (source / "docs/integrator.md").write_text("edited\n")
    refused = check(source)
    assert refused.returncode == 2
    assert "uncommitted changes in docs/integrator.md" in refused.stderr
    assert "--allow-dirty" in refused.stderr
    allowed = check(source, "--allow-dirty")
    assert allowed.returncode == 0 and "dirty=True" in allowed.stdout


def test_build_info_names_version_commit_and_c_library() -> None:
    text = build.BuildInfo("0.1.0", "a" * 40, True, 0).render()
    fields = dict(line.split("=", 1) for line in text.splitlines())
    assert fields["version"] == "0.1.0" and fields["commit"] == "a" * 40 and fields["dirty"] == "yes"
    assert fields["commit_time"] == "1970-01-01T00:00:00Z"
    assert fields["glibc"] and fields["platform"].startswith("linux-")


def test_tarball_has_root_owned_entries_under_one_folder(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "unpacked")
    tarball = tmp_path / "out.tar.gz"
    build.write_tarball(bundle, tarball, 1_700_000_000)
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
    assert {m.name.split("/")[0] for m in members} == {bundle.name}
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 1_700_000_000)}
    modes = {m.name: m.mode for m in members}
    assert modes[f"{bundle.name}/install.sh"] == modes[f"{bundle.name}/station"] == 0o755
    assert (tmp_path / "out.tar.gz.sha256").read_text().endswith("  out.tar.gz\n")


def test_every_data_file_of_the_package_is_package_data() -> None:
    """A file under station/ that is not Python is read at run time: the wheel must carry it (issue 17)."""
    import fnmatch
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data = [
        path.relative_to(REPO)
        for path in sorted((REPO / "station").rglob("*"))
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert any(path.name == "unit.zpl" for path in data)  # the label template is package data
    missing = [
        path.as_posix()
        for path in data
        if not any(
            path.parent.as_posix().replace("/", ".").startswith(package)
            and fnmatch.fnmatch(path.relative_to(Path(*package.split("."))).as_posix(), pattern)
            for package, patterns in declared.items()
            for pattern in patterns
        )
    ]
    assert not missing, f"add these to [tool.setuptools.package-data] in pyproject.toml: {missing}"


# --- issue 17: the PC set up for the fixtures, and nothing else --------------------------------------------


def test_placeholder_usb_ids_are_refused_saying_where_the_real_ones_go(tmp_path: Path) -> None:
    bundle, root = make_bundle(tmp_path / "unpacked"), tmp_path / "root"
    for args in (["--dry-run", "--prefix", str(root)], ["--prefix", str(root)]):
        done = install(bundle, *args, usb_id=None)
        assert done.returncode == 2
        assert "placeholders (XXXX/YYYY" in done.stderr and "--usb-id VVVV:PPPP" in done.stderr
        assert "[fixtures] usb_vendor" in done.stderr
    for bad in ("1fc9", "1fc9:01170", "0000:0000", "wxyz:0117"):
        assert install(bundle, "--dry-run", "--prefix", str(root), usb_id=bad).returncode == 2, bad
    assert not root.exists()


def test_the_rules_match_only_the_ppa_and_the_named_controller_ports(tmp_path: Path) -> None:
    bundle, root = make_bundle(tmp_path / "unpacked"), tmp_path / "root"
    controller = "/dev/serial/by-path/pci-0000:00:14.0-usb-0:4:1.0-port0"
    done = install(bundle, "--prefix", str(root), "--controller", controller, usb_id="1FC9:0117")
    assert done.returncode == 0, done.stderr
    rules = [
        line
        for line in (root / "etc/udev/rules.d/70-ppa-station.rules").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert len(rules) == 4
    for line in rules[:3]:
        assert '{idVendor}=="1fc9"' in line and '{idProduct}=="0117"' in line, line
    assert any('ENV{UDISKS_IGNORE}="1"' in line and 'SUBSYSTEM=="block"' in line for line in rules)
    assert rules[3] == (
        'SUBSYSTEM=="tty", ENV{ID_PATH}=="pci-0000:00:14.0-usb-0:4:1.0", MODE="0660", GROUP="ppa-station"'
    )
    assert not any("ixture" in line or "XXXX" in line or "YYYY" in line for line in rules)
    for link in ("10-ppa-fx1.link", "10-ppa-fx2.link"):
        match = ini(root / "etc/systemd/network" / link)["Match"]
        assert match["Property"] == "ID_VENDOR_ID=1fc9 ID_MODEL_ID=0117"  # another adapter keeps its name
    refused = install(bundle, "--dry-run", "--prefix", str(root), "--controller", "/dev/ttyUSB0")
    assert refused.returncode == 2 and "/dev/serial/by-path/" in refused.stderr


def test_an_upgrade_keeps_the_ids_and_controllers_the_pc_has(tmp_path: Path) -> None:
    bundle, root = make_bundle(tmp_path / "unpacked"), tmp_path / "root"
    controller = "/dev/serial/by-path/pci-0000:00:14.0-usb-0:4:1.0"
    assert install(bundle, "--prefix", str(root), "--controller", controller).returncode == 0
    rules = root / "etc/udev/rules.d/70-ppa-station.rules"
    before = rules.read_text()
    again = install(bundle, "--prefix", str(root), usb_id=None)
    assert again.returncode == 0, again.stderr
    assert actions(again.stdout)[str(rules)] == "unchanged"
    assert rules.read_text() == before and "usb-0:4:1.0" in before


def test_the_headless_service_has_no_capability() -> None:
    service = ini(PACKAGING / "systemd" / "ppa-station.service")["Service"]
    assert "AmbientCapabilities" not in service
    assert service["CapabilityBoundingSet"] == ""
    assert service["User"] == "ppa-station"


def test_dry_run_on_this_pc_lists_user_networking_and_doctor(tmp_path: Path) -> None:
    """Without --prefix (the PC itself), a dry run says each system step and does none of them."""
    done = install(make_bundle(tmp_path / "unpacked"), "--dry-run")
    assert done.returncode == 0, done.stderr
    steps = [line.split(None, 1) for line in done.stdout.splitlines()]
    said = {verb: rest for verb, rest in (step for step in steps if len(step) == 2)}
    assert said["user"].startswith("ppa-station")
    assert said["enable"].startswith("systemd-networkd.service")
    assert said["disable"] == "systemd-networkd-wait-online.service"
    assert said["run"] == "station doctor --config /srv/ppa-station/station.toml"
    assert done.stdout.splitlines()[-1].startswith("run ")  # the doctor comes last


def test_into_a_prefix_the_pc_steps_are_skipped_with_the_reason(tmp_path: Path) -> None:
    bundle, root = make_bundle(tmp_path / "unpacked"), tmp_path / "root"
    done = install(bundle, "--prefix", str(root))
    assert done.returncode == 0, done.stderr
    skipped = [line for line in done.stdout.splitlines() if line.startswith("skip ")]
    assert len(skipped) == 3
    assert any("user ppa-station" in line for line in skipped)
    assert any("systemd-networkd.service" in line for line in skipped)
    assert any("station doctor" in line for line in skipped)
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\nppa-station:x:998:998::/srv:/bin/false\n"
    )
    again = install(bundle, "--prefix", str(root))
    assert f"ppa-station exists in {root}" in again.stdout
