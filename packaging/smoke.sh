#!/usr/bin/env bash
# Smoke test of a release tarball: unpack it into a temporary folder and run the frozen station there.
#
#     bash packaging/smoke.sh dist/ppa-station-0.1.0-linux-x86_64.tar.gz     # `make package-smoke`, CI
#
# Checks what a station PC needs on day one, away from the source checkout and its .venv: the program
# starts and knows its version, the demo provisions two simulated units and their records verify (SQLite
# migrations, crypto, simulator all bundled), `station sim ppa` serves a unit on 127.0.0.1 and stops on
# SIGTERM, and the operator window renders a screenshot offscreen. Exits non-zero at the first failure.
set -euo pipefail

tarball=${1:?usage: smoke.sh TARBALL}
[ -f "$tarball" ] || { echo "smoke: no tarball at $tarball (make package builds it)" >&2; exit 2; }
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ppa-station-smoke.XXXXXX")
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT
cd "$scratch"  # nothing of the checkout (station.toml, .venv) is in reach from here
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV

fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
step() { started=$(date +%s%N); echo "smoke: $1"; }
passed() { local ms=$((($(date +%s%N) - started) / 1000000)); printf 'smoke: ok (%d.%d s)\n' $((ms / 1000)) $((ms % 1000 / 100)); }

step "unpack $(basename "$tarball")"
tar -xzf "$tarball" -C "$scratch"
bundle=$(find "$scratch" -mindepth 1 -maxdepth 1 -type d -name 'ppa-station-*')
if [ -z "$bundle" ] || [ "$(echo "$bundle" | wc -l)" != 1 ]; then
    fail "the tarball holds not exactly one ppa-station-* folder"
fi
version=$(sed -n 's/^version=//p' "$bundle/BUILD-INFO")
station="$bundle/station"
passed

step "station --version"
out=$(timeout 60 "$station" --version) || fail "station --version exited $?"
[ "$out" = "station $version" ] || fail "station --version printed '$out', expected 'station $version'"
passed

step "station demo --units 2"
timeout 300 "$station" demo --units 2 --data "$scratch/demo" >"$scratch/demo.log" 2>&1 \
    || { tail -20 "$scratch/demo.log" >&2; fail "station demo exited non-zero"; }
grep -q "OK: every record verifies" "$scratch/demo.log" || fail "the demo's records do not verify"
timeout 60 "$station" records verify --data "$scratch/demo" >/dev/null || fail "station records verify"
passed

step "station sim ppa --count 1"
mkfifo "$scratch/sim.out"
"$station" sim ppa --count 1 --data "$scratch/sim" >"$scratch/sim.out" 2>"$scratch/sim.err" &
sim_pid=$!
exec 3<"$scratch/sim.out"
read -r -t 60 -u 3 line || { cat "$scratch/sim.err" >&2; fail "the simulator printed no unit within 60 s"; }
port=$(echo "$line" | sed -n 's|.*"http": "http://127\.0\.0\.1:\([0-9]*\)".*|\1|p')
[ -n "$port" ] || fail "the simulator's line names no http://127.0.0.1 port: $line"
exec 4<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /api/system/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&4
reply=$(timeout 30 cat <&4) || fail "the simulated unit did not answer"
exec 4<&-
case "$reply" in "HTTP/1.1 200"*'"fls_state"'*) ;; *) fail "unexpected status reply: ${reply:0:200}" ;; esac
kill -TERM "$sim_pid"
wait "$sim_pid" || fail "the simulator exited $? on SIGTERM"
sim_pid=""
exec 3<&-
passed

if [ -d "$bundle/_internal/PySide6" ]; then
    step "station gui --demo --screenshot (offscreen)"
    QT_QPA_PLATFORM=offscreen timeout 300 "$station" gui --demo --screenshot "$scratch/window.png" \
        >"$scratch/gui.log" 2>&1 || { tail -20 "$scratch/gui.log" >&2; fail "station gui exited non-zero"; }
    [ "$(head -c 8 "$scratch/window.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
        || fail "the screenshot is not a PNG"
    passed
else
    echo "smoke: no operator window in this bundle (no PySide6): gui not tested"
fi
echo "smoke: $(basename "$tarball") passed"
