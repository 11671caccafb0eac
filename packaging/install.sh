#!/usr/bin/env bash
# Install the PPA provisioning station from this unpacked release tarball.
#
#     sudo ./install.sh                     # into /
#     ./install.sh --dry-run                # say what would be done, write nothing
#     ./install.sh --prefix /tmp/root       # into a staging root (an image build, a test)
#
# What goes where (docs/integrator.md explains each):
#   /opt/ppa-station/<version>/            the station (this folder), /opt/ppa-station/current -> <version>
#   /usr/local/bin/station                 -> /opt/ppa-station/current/station
#   /etc/udev/rules.d, /etc/systemd/network, /etc/NetworkManager/conf.d, /etc/sysctl.d, /etc/systemd/system
#                                          the PC's side of the USB fixtures (files an integrator edits)
#   /usr/local/lib/systemd/user/ppa-station-gui.service, /usr/local/share/applications, .../icons
#                                          the operator window: kiosk autostart and menu entry
#
# Idempotent: running it twice changes nothing the second time. An upgrade installs the new version beside
# the old one and moves `current`; the old folder stays for a rollback (run its install.sh). Files under
# /etc are never overwritten once an integrator has changed them: the shipped version is put beside them as
# <file>.ppa-station-new, and the run says so.
set -euo pipefail

usage() {
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    echo "options: --prefix DIR (default /), --dry-run, --help"
}

here=$(cd "$(dirname "$0")" && pwd)
prefix=/
dry_run=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --dry-run) dry_run=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ ! -f "$here/BUILD-INFO" ] || [ ! -x "$here/station" ]; then
    echo "install.sh: $here is not an unpacked ppa-station tarball (no BUILD-INFO or station)" >&2; exit 2
fi
version=$(sed -n 's/^version=//p' "$here/BUILD-INFO")
[ -n "$version" ] || { echo "install.sh: $here/BUILD-INFO names no version" >&2; exit 2; }
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
root=${prefix%/}
if [ -z "$root" ] && [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
    echo "install.sh: installing into / needs root (sudo ./install.sh), or give --prefix DIR" >&2; exit 2
fi

check_glibc() {  # the frozen Python and Qt need at least the C library of the PC that built them
    local need have
    need=$(sed -n 's/^glibc=//p' "$here/BUILD-INFO")
    have=$(ldd --version 2>/dev/null | sed -n '1s/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p')
    [ -n "$need" ] && [ "$need" != unknown ] && [ -n "$have" ] || return 0
    if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
        echo "install.sh: this PC has glibc $have; ppa-station $version needs $need or newer" >&2
        exit 2
    fi
}
[ -n "$root" ] || check_glibc

app="$root/opt/ppa-station"
system="$here/share/system"
# The version `current` points at before this run: its shipped /etc files tell an untouched file from an
# edited one on upgrade.
previous=""
if [ -L "$app/current" ]; then
    current=$(readlink "$app/current")
    case "$current" in /*) previous="$root$current" ;; *) previous="$app/$current" ;; esac
fi

say() { printf '%-10s %s\n' "$1" "$2"; }
run() { [ "$dry_run" = 1 ] || "$@"; }

put_file() {  # put_file SRC DEST MODE: write DEST atomically (a reader never sees half a file)
    run mkdir -p "$(dirname "$2")"
    run install -m "$3" "$1" "$2.ppa-station-tmp"
    run mv -f "$2.ppa-station-tmp" "$2"
}

install_program() {
    local target="$app/$version"
    if [ -f "$target/BUILD-INFO" ] && cmp -s "$here/BUILD-INFO" "$target/BUILD-INFO"; then
        say unchanged "$target"; return
    fi
    say install "$target"
    run mkdir -p "$app"
    run rm -rf "$app/.$version.partial"
    run cp -R -P --preserve=mode,timestamps,links "$here" "$app/.$version.partial"
    run rm -rf "$target"
    run mv "$app/.$version.partial" "$target"
}

link() {  # link TARGET NAME: NAME -> TARGET, replaced only if it points elsewhere
    if [ -L "$2" ] && [ "$(readlink "$2")" = "$1" ]; then say unchanged "$2"; return; fi
    say link "$2 -> $1"
    run mkdir -p "$(dirname "$2")"
    run ln -sfn "$1" "$2"
}

vendor_file() {  # ours alone (nobody edits it in place): replaced when it differs
    local src="$system/$1" dest="$root$2"
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then say unchanged "$dest"; return; fi
    say install "$dest"
    put_file "$src" "$dest" 0644
}

config_file() {  # an integrator edits it: replaced only while it is what an earlier version shipped
    local src="$system/$1" dest="$root$2"
    if [ ! -e "$dest" ]; then
        say install "$dest"; put_file "$src" "$dest" 0644
    elif cmp -s "$src" "$dest"; then
        say unchanged "$dest"
    elif [ -n "$previous" ] && cmp -s "$previous/share/system/$1" "$dest"; then
        say update "$dest"; put_file "$src" "$dest" 0644
    elif [ -f "$dest.ppa-station-new" ] && cmp -s "$src" "$dest.ppa-station-new"; then
        say kept "$dest (changed here; shipped version in $dest.ppa-station-new)"
    else
        say kept "$dest (changed here; shipped version in $dest.ppa-station-new)"
        put_file "$src" "$dest.ppa-station-new" 0644
    fi
}

reload_system() {  # make the new rules and sysctl setting take effect now, on the real system only
    [ -z "$root" ] && [ "$dry_run" = 0 ] || return 0
    if command -v udevadm >/dev/null; then udevadm control --reload || true; fi
    if command -v sysctl >/dev/null; then sysctl -q -p /etc/sysctl.d/60-ppa-station.conf || true; fi
    if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
}

[ "$dry_run" = 1 ] && echo "dry run: nothing is written"
echo "ppa-station $version -> ${root:-/}"
config_file udev/70-ppa-station.rules /etc/udev/rules.d/70-ppa-station.rules
config_file systemd/10-ppa-fx1.link /etc/systemd/network/10-ppa-fx1.link
config_file systemd/10-ppa-fx2.link /etc/systemd/network/10-ppa-fx2.link
config_file systemd/60-ppa-slots.network /etc/systemd/network/60-ppa-slots.network
config_file NetworkManager/90-ppa-station.conf /etc/NetworkManager/conf.d/90-ppa-station.conf
config_file sysctl/60-ppa-station.conf /etc/sysctl.d/60-ppa-station.conf
config_file systemd/ppa-station.service /etc/systemd/system/ppa-station.service
install_program
link "$version" "$app/current"
link /opt/ppa-station/current/station "$root/usr/local/bin/station"
vendor_file systemd/ppa-station-gui.service /usr/local/lib/systemd/user/ppa-station-gui.service
vendor_file desktop/ppa-station.desktop /usr/local/share/applications/ppa-station.desktop
vendor_file desktop/ppa-station.svg /usr/local/share/icons/hicolor/scalable/apps/ppa-station.svg
reload_system
cat <<EOF
next: edit the USB ids in /etc/udev/rules.d/70-ppa-station.rules and one .link file per slot,
      start /srv/ppa-station from the example: cp -r /opt/ppa-station/current/share/examples/. /srv/ppa-station/
      then: systemctl --global enable ppa-station-gui.service   (docs: /opt/ppa-station/current/share/doc/integrator.md)
EOF
