#!/usr/bin/env bash
# The arm64 package installed as a Raspberry Pi owner installs it (issue 23, part 4): into a
# fresh Debian 12 arm64 root (debootstrap --variant=minbase, from Debian's archive), with
# `apt install ./crymeter_*_arm64.deb` resolving its dependencies there, everything run
# inside the root (chroot) through qemu-user-static's binfmt handler. Checks: dpkg's status
# and architecture, `crymeter --version`, the demo's records equal to the host build's,
# the unit and settings file in place, and a purge that leaves no tool behind.
#   tests/arch/deb_root.sh DEB HOST_CRYMETER [ROOT]
# ROOT (default build-arm64/root) is made once and reused; make deb-root-arm64 runs this.
# Needs root, network access to Debian's archive, debootstrap and qemu-user-static.
set -euo pipefail
DEB=$(realpath "${1:?usage: deb_root.sh DEB HOST_CRYMETER [ROOT]}")
HOST=$(realpath "${2:?usage: deb_root.sh DEB HOST_CRYMETER [ROOT]}")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${3:-$SRC/build-arm64/root}
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# arm64 programs inside the root run through the kernel's binfmt_misc, which hands them to
# qemu-user-static's interpreter (flag F: opened now, so it works inside the chroot).
B=/proc/sys/fs/binfmt_misc
[ -e $B/register ] || mount -t binfmt_misc binfmt_misc $B ||
    { echo "cannot mount binfmt_misc (not root, or a container that forbids it)" >&2; exit 1; }
if [ ! -e $B/qemu-aarch64 ]; then
    sed -n '/^:qemu-aarch64:/p' /usr/lib/binfmt.d/qemu-aarch64.conf > $B/register
fi
[ "$(head -1 $B/qemu-aarch64)" = enabled ] || { echo "binfmt qemu-aarch64 not enabled" >&2; exit 1; }

if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
    echo "debootstrap: Debian 12 arm64 (minbase) into $ROOT (about 2 minutes)"
    rm -rf "$ROOT.part"
    debootstrap --arch=arm64 --variant=minbase bookworm "$ROOT.part" http://deb.debian.org/debian \
        > "$ROOT.log" 2>&1 || { tail -20 "$ROOT.log" >&2; echo "debootstrap failed" >&2; exit 1; }
    mv "$ROOT.part" "$ROOT"
fi
[ "$(chroot "$ROOT" uname -m)" = aarch64 ] && ok "the root runs arm64 programs" || bad "the root is not arm64"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$DEB" "$ROOT/tmp/crymeter.deb"
cp "$SRC/samples/demo.flac" "$ROOT/tmp/demo.flac"
in_root() { chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
in_root apt-get purge -y -q crymeter > /dev/null 2>&1 || true   # a root kept from a run before
in_root apt-get update -q > "$ROOT/tmp/apt.log" 2>&1 || { cat "$ROOT/tmp/apt.log" >&2; bad "apt-get update"; }
if in_root apt-get install -y -q --no-install-recommends /tmp/crymeter.deb >> "$ROOT/tmp/apt.log" 2>&1; then
    ok "apt installed the package and its dependencies"
else
    tail -20 "$ROOT/tmp/apt.log" >&2; bad "apt install ./crymeter.deb"
fi
st=$(in_root dpkg-query -W -f '${Status} ${Architecture}' crymeter 2>&1 || true)
[ "$st" = "install ok installed arm64" ] && ok "dpkg: $st" || bad "dpkg status: $st"
v=$(in_root crymeter --version 2>&1 || true)
[ "$v" = "$("$HOST" --version)" ] && ok "$v" || bad "crymeter --version in the root: $v"
in_root sh -c 'cd /tmp && crymeter analyze -f jsonl demo.flac' > "$ROOT/tmp/root.jsonl" || bad "the demo in the root"
(cd "$SRC/samples" && "$HOST" analyze -f jsonl demo.flac) > "$ROOT/tmp/host.jsonl"
cmp -s "$ROOT/tmp/root.jsonl" "$ROOT/tmp/host.jsonl" &&
    ok "the demo's records ($(grep -c '"type":"episode"' "$ROOT/tmp/host.jsonl") episodes) equal the host's" ||
    bad "the demo's records differ: $(diff "$ROOT/tmp/host.jsonl" "$ROOT/tmp/root.jsonl" | head -4)"
for f in /usr/lib/systemd/system/crymeter-monitor.service /etc/crymeter/monitor.conf; do
    [ -f "$ROOT$f" ] && ok "$f installed" || bad "$f not installed"
done
in_root apt-get purge -y -q crymeter >> "$ROOT/tmp/apt.log" 2>&1 || bad "apt-get purge crymeter"
[ ! -e "$ROOT/usr/bin/crymeter" ] && [ ! -e "$ROOT/etc/crymeter/monitor.conf" ] && ok "purged" ||
    bad "purge left the tool or its settings"
echo "$fails failed"
[ "$fails" = 0 ]
