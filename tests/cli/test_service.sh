#!/usr/bin/env bash
# The installed crymeter-monitor.service: systemd-analyze verify accepts it (with the
# installed man page found through MANPATH, since Documentation= names it), its offline
# security exposure stays at most 3.0 of 10, it carries the hardening the service promises,
# and its ExecStart, run as systemd would (STATE_DIRECTORY set) with the installed
# monitor.conf, gets past the config to the audio device and appends to
# $STATE_DIRECTORY/episodes.jsonl. Exits 77 (ctest: skipped) only without systemd-analyze.
set -u
CRYMETER=${CRYMETER:?} CM_BUILD_DIR=${CM_BUILD_DIR:?}
. "$(dirname "$0")/lib.sh"
if ! command -v systemd-analyze >/dev/null; then
    echo "systemd-analyze not installed (Debian package systemd; make deps installs it): skipped"
    exit 77
fi
S=$CM_BUILD_DIR/stage-service
rm -rf "$S"
expect 0 "" -- env DESTDIR="$S" cmake --install "$CM_BUILD_DIR"
unit=$(find "$S" -name crymeter-monitor.service | head -1)
conf=$(find "$S" -path '*/crymeter/monitor.conf' | head -1)
man=$(find "$S" -name crymeter.1.gz | head -1)
[ -n "$unit" ] && [ -n "$conf" ] && [ -n "$man" ] && ok || { bad "unit, config or man page not installed"; finish; exit 1; }
case "$unit" in */lib/systemd/system/crymeter-monitor.service) ok ;; *) bad "unit at $unit" ;; esac

MANPATH=$(dirname "$(dirname "$man")") expect 0 "" -- systemd-analyze verify "$unit"
[ -s "$T/err" ] && bad "systemd-analyze verify said: $(cat "$T/err")" || ok
expect 0 "Overall exposure level" -- systemd-analyze security --offline=true --threshold=30 "$unit"
sed -n 's/.*Overall exposure level[^:]*: \([0-9.]*\).*/exposure \1/p' "$T/out"

for d in 'DynamicUser=yes' 'SupplementaryGroups=audio' 'ProtectSystem=strict' 'ProtectHome=yes' \
         'PrivateTmp=yes' 'NoNewPrivileges=yes' 'Restart=on-failure' 'StateDirectory=crymeter crymeter/clips' \
         'StandardError=journal' 'DeviceAllow=char-alsa rw' 'CapabilityBoundingSet=' 'RestartPreventExitStatus=2' \
         'ExecReload=/bin/kill -HUP $MAINPID'; do
    grep -qx "$d" "$unit" && ok || bad "unit lacks $d"
done
grep -q '^clips = /var/lib/crymeter/clips$' "$conf" && ok || bad "monitor.conf does not put clips under /var/lib/crymeter"

# ExecStart as systemd runs it, with the built binary and the staged config in place of the
# installed paths: the config is accepted, then the device is missing.
cmd=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$unit")
[ -n "$cmd" ] && ok || bad "ExecStart is not /bin/sh -c '...'"
# systemctl reload sends SIGHUP, which must reload the model, not stop the monitor.
grep -q -- ' --on-hup reload ' <<< "$cmd" && ok || bad "ExecStart lacks --on-hup reload: $cmd"
bin=$(sed -n 's/^exec "\([^"]*\)".*/\1/p' <<< "$cmd")
cfg=$(sed -n 's/.*--config "\([^"]*\)".*/\1/p' <<< "$cmd")
[ -n "$bin" ] && [ -n "$cfg" ] && ok || bad "cannot find the binary and config in: $cmd"
[ "$S$cfg" = "$conf" ] && ok || bad "ExecStart reads $cfg, installed at ${conf#$S}"
run=${cmd//"$bin"/$CRYMETER}
run=${run//"$cfg"/$conf}
# A device that exists nowhere (the command line wins over the config), so the run ends
# at the device on any machine.
run=${run/ monitor / monitor --device no-such-device-crymeter-test }
mkdir -p "$T/state"
STATE_DIRECTORY=$T/state timeout 60 /bin/sh -c "$run" 2> "$T/err"
rc=$?
# The one complaint is the device (exit 2 for a --device matching nothing), none is the config.
[ "$rc" = 1 ] || [ "$rc" = 2 ] && ok || bad "ExecStart exited $rc: $(cat "$T/err")"
grep -q "no-such-device-crymeter-test" "$T/err" && ok || bad "no message about the device: $(cat "$T/err")"
grep -q "monitor\.conf" "$T/err" && bad "the config was refused: $(cat "$T/err")" || ok
[ -e "$T/state/episodes.jsonl" ] && ok || bad "ExecStart did not open \$STATE_DIRECTORY/episodes.jsonl"
rm -rf "$S"
finish
