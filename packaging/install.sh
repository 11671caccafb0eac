#!/usr/bin/env bash
# Install the PPA provisioning station from this unpacked release tarball.
#
#     sudo ./install.sh --usb-id 1fc9:0117 --controller /dev/serial/by-path/pci-0000:00:14.0-usb-0:4:1.0
#     ./install.sh --usb-id 1fc9:0117 --dry-run           # say what would be done, write nothing
#     ./install.sh --usb-id 1fc9:0117 --prefix /tmp/root  # into a staging root (an image build, a test)
#
# --usb-id: the PPA's USB vendor:product ids (lsusb with a unit plugged in; not published, so no default);
# an upgrade reads them from the installed udev rule. --controller (repeatable): a fixture controller's
# serial port by its USB port, as /dev/serial/by-path/ names it; only those ports go to the station user.
#
# What goes where (docs/integrator.md explains each):
#   /opt/ppa-station/<version>/            the station (this folder), /opt/ppa-station/current -> <version>
#   /usr/local/bin/station                 -> /opt/ppa-station/current/station
#   /etc/udev/rules.d, /etc/systemd/network, /etc/NetworkManager/conf.d, /etc/sysctl.d, /etc/systemd/system
#                                          the PC's side of the USB fixtures (files an integrator edits)
#   /usr/local/lib/systemd/user/ppa-station-gui.service, /usr/local/share/applications, .../icons
#                                          the operator window: kiosk autostart and menu entry
# On this PC (not with --prefix) it also creates the `ppa-station` user and group and /srv/ppa-station,
# enables systemd-networkd (the slots' DHCP addresses), and ends with `station doctor`, which names
# whatever is left to do before the first unit.
#
# Idempotent: running it twice changes nothing the second time. An upgrade installs the new version beside
# the old one and moves `current`; the old folder stays for a rollback (run its install.sh). Files under
# /etc are never overwritten once an integrator has changed them: the shipped version is put beside them as
# <file>.ppa-station-new, and the run says so.
set -euo pipefail

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    echo "options: --usb-id VVVV:PPPP, --controller /dev/serial/by-path/..., --prefix DIR (default /), --dry-run, --help"
}

here=$(cd "$(dirname "$0")" && pwd)
prefix=/
dry_run=0
usb_id=""
controllers=()
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --dry-run) dry_run=1; shift ;;
        --usb-id) [ $# -ge 2 ] || { echo "install.sh: --usb-id needs VVVV:PPPP" >&2; exit 2; }
                  usb_id=$2; shift 2 ;;
        --usb-id=*) usb_id=${1#--usb-id=}; shift ;;
        --controller) [ $# -ge 2 ] || { echo "install.sh: --controller needs a /dev/serial/by-path/ name" >&2; exit 2; }
                      controllers+=("$2"); shift 2 ;;
        --controller=*) controllers+=("${1#--controller=}"); shift ;;
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

# --- this PC's USB ids and controller ports, put into the shipped udev rule and .link files ---------------
rules_dest="$root/etc/udev/rules.d/70-ppa-station.rules"
placeholder_refusal() {
    echo "install.sh: the PPA's USB ids are still placeholders (XXXX/YYYY in the udev rule and the .link" \
        "files): give them as --usb-id VVVV:PPPP (lsusb shows them with a unit plugged in) and put the" \
        "same ids in station.toml as [fixtures] usb_vendor = 0xVVVV and usb_product = 0xPPPP" >&2
    exit 2
}
if [ -z "$usb_id" ] && [ -f "$rules_dest" ] && ! grep -v '^#' "$rules_dest" | grep -q 'XXXX\|YYYY'; then
    # an upgrade: the ids this PC already has
    usb_id=$(sed -n 's/.*ATTR{idVendor}=="\([0-9a-f]\{4\}\)", ATTR{idProduct}=="\([0-9a-f]\{4\}\)".*/\1:\2/p' "$rules_dest" | head -1)
fi
[ -n "$usb_id" ] || placeholder_refusal
usb_id=$(printf '%s' "$usb_id" | tr 'A-F' 'a-f')
case "$usb_id" in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
    *) echo "install.sh: --usb-id $usb_id: expected four hex digits, a colon, four hex digits (as lsusb shows)" >&2
       exit 2 ;;
esac
[ "$usb_id" != "0000:0000" ] || placeholder_refusal
vendor=${usb_id%%:*}
product=${usb_id##*:}

controller_rules=""
for device in "${controllers[@]}"; do
    case "$device" in
        /dev/serial/by-path/?*) ;;
        *) echo "install.sh: --controller $device: name the controller by its USB port, as" \
               "/dev/serial/by-path/... (ls -l /dev/serial/by-path/ with the controller plugged in)" >&2
           exit 2 ;;
    esac
    id_path=$(basename "$device" | sed 's/-port[0-9]*$//')  # a by-path name is the port's ID_PATH (+ -portN)
    case "$id_path" in *[!A-Za-z0-9:._-]*) echo "install.sh: --controller $device: unexpected characters" >&2; exit 2 ;; esac
    controller_rules+="SUBSYSTEM==\"tty\", ENV{ID_PATH}==\"$id_path\", MODE=\"0660\", GROUP=\"ppa-station\""$'\n'
done
if [ ${#controllers[@]} -eq 0 ] && [ -f "$rules_dest" ]; then  # an upgrade keeps the controllers it has
    controller_rules=$(grep '^SUBSYSTEM=="tty", ENV{ID_PATH}==' "$rules_dest" || true)
    [ -z "$controller_rules" ] || controller_rules+=$'\n'
fi
[ -n "$controller_rules" ] || controller_rules="# (no fixture controller: install.sh --controller /dev/serial/by-path/... adds one)"$'\n'

rendered=$(mktemp -d "${TMPDIR:-/tmp}/ppa-station-install.XXXXXX")
trap 'rm -rf "$rendered"' EXIT
render() {  # render SRC DEST: a shipped system file with this PC's ids and controller rules in it
    mkdir -p "$(dirname "$2")"
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        if [ "$line" = "# @CONTROLLERS@" ]; then
            printf '%s' "$controller_rules"
        else
            printf '%s\n' "$line"
        fi
    done < <(sed -e "s/XXXX/$vendor/g" -e "s/YYYY/$product/g" "$1") > "$2"
}

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
    local src="$rendered/now/$1" dest="$root$2" before="$rendered/before/$1"
    render "$system/$1" "$src"
    if [ -n "$previous" ] && [ -f "$previous/share/system/$1" ]; then render "$previous/share/system/$1" "$before"; fi
    if [ ! -e "$dest" ]; then
        say install "$dest"; put_file "$src" "$dest" 0644
    elif cmp -s "$src" "$dest"; then
        say unchanged "$dest"
    elif [ -f "$before" ] && cmp -s "$before" "$dest"; then
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

station_user() {  # the account `station run` and the udev rules' GROUP use: a system user with its own group
    if [ -n "$root" ]; then
        if [ ! -f "$root/etc/passwd" ]; then
            say skip "user ppa-station: $root has no etc/passwd (install.sh on the PC creates it)"
        elif grep -q '^ppa-station:' "$root/etc/passwd"; then
            say user "ppa-station exists in $root"
        else
            say user "ppa-station (system user and group) in $root"
            run useradd --root "$root" --system --user-group --home-dir /srv/ppa-station --shell /usr/sbin/nologin ppa-station
        fi
        return
    fi
    if id ppa-station >/dev/null 2>&1; then
        say user "ppa-station exists"
    else
        say user "ppa-station (system user and group, home /srv/ppa-station)"
        run useradd --system --user-group --home-dir /srv/ppa-station --shell /usr/sbin/nologin ppa-station
    fi
    if [ -d /srv/ppa-station ]; then
        say folder "/srv/ppa-station exists"
    else
        say folder "/srv/ppa-station (the station's folder: station.toml, its data; ppa-station's own)"
        run install -d -m 0750 -o ppa-station -g ppa-station /srv/ppa-station
    fi
}

slot_networking() {  # systemd-networkd takes each slot's DHCP address (off by default on Ubuntu Desktop)
    local unit=systemd-networkd.service
    if [ -n "$root" ]; then
        if [ -e "$root/lib/systemd/system/$unit" ] || [ -e "$root/usr/lib/systemd/system/$unit" ]; then
            say enable "$unit in $root"
            run systemctl --root="$root" enable "$unit"
            run systemctl --root="$root" disable systemd-networkd-wait-online.service
        else
            say skip "enable $unit: $root has no $unit (install.sh on the PC enables it)"
        fi
        return
    fi
    say enable "$unit (the slot interfaces fx*: DHCP address only; NetworkManager keeps off them)"
    run systemctl enable --now "$unit"
    # networkd manages only fx* (RequiredForOnline=no): its wait-online would hold every boot for two
    # minutes waiting for a link it does not own; NetworkManager's wait-online serves network-online.target.
    say disable "systemd-networkd-wait-online.service"
    run systemctl disable systemd-networkd-wait-online.service 2>/dev/null || true
    if [ "$dry_run" = 0 ] && systemctl is-active --quiet NetworkManager 2>/dev/null; then
        systemctl reload NetworkManager || true
    fi
}

doctor() {  # what is left to do before the first unit, in the station's own words
    local config=/srv/ppa-station/station.toml
    if [ -n "$root" ]; then
        say skip "station doctor: checks this PC, not $root (run station doctor on the PC)"
        return
    fi
    say run "station doctor --config $config"
    [ "$dry_run" = 0 ] || return 0
    if [ ! -f "$config" ]; then
        echo "doctor: no $config yet; start it from the example (above), then run: station doctor --config $config"
        return
    fi
    if (cd /srv/ppa-station && runuser -u ppa-station -- /usr/local/bin/station doctor --config "$config"); then
        echo "doctor: every check passed"
    else
        echo "doctor: fix what the ✖ lines name, then run station doctor --config $config again"
    fi
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
station_user
slot_networking
reload_system
cat <<EOF
next: one .link file per slot in /etc/systemd/network (its Path= is the slot's port),
      start /srv/ppa-station from the example: cp -r /opt/ppa-station/current/share/examples/. /srv/ppa-station/
      then: systemctl --global enable ppa-station-gui.service   (docs: /opt/ppa-station/current/share/doc/install.md)
EOF
doctor
