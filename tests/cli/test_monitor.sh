#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end test of `crymeter monitor` without a sound card: samples/demo.flac (cry at
# 4-19 s and 48-58 s, speech 24-38 s) is converted to raw S16 and fed through a FIFO into
# the ALSA `file` PCM of tests/alsa/crymeter-test.conf, which PortAudio captures. The FIFO
# is the clock (the null PCM under it has none): a feeder writes 0.1 s blocks at 8x real
# time, then silence. Checks:
#   1. the episode records equal `crymeter analyze` on the same file (all fields but
#      "file"), start records come before their episode, nothing is dropped, exit 0;
#   2. --clips writes one WAV per episode with pre-roll; --exec sees CRYMETER_* variables;
#   3. SIGINT in the middle of the last cry still gives its end record and the summary;
#      SIGINT while the driver blocks for good still gives the summary, within seconds;
#   4. devices lists the test PCM; bad options are usage errors.
# Needs: CRYMETER, CM_SOURCE_DIR; sox (in the Makefile's package list).
set -euo pipefail
: "${CRYMETER:?}" "${CM_SOURCE_DIR:?}"
command -v sox >/dev/null || { echo "FAIL: sox is needed to decode samples/demo.flac"; exit 1; }
demo="$CM_SOURCE_DIR/samples/demo.flac"
[ -f "$demo" ] || { echo "FAIL: missing $demo"; exit 1; }

tmp=$(mktemp -d)
feeder=""
mon=""
cleanup() {
    [ -n "$feeder" ] && kill "$feeder" 2>/dev/null || true
    [ -n "$mon" ] && kill "$mon" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$CM_SOURCE_DIR/tests/alsa/crymeter-test.conf"
export CM_TEST_INFILE="$tmp/in.fifo"
rate=16000
sox "$demo" -t raw -e signed -b 16 -L -r $rate -c 1 "$tmp/demo.raw"

# Starts the paced feeder on a fresh FIFO, held open read-write by this shell (fd 3) so
# PortAudio's device probe neither blocks on it nor makes the feeder see EPIPE.
start_feeder() { # speed
    local bs=3200 # 0.1 s of mono S16 at 16 kHz; <= PIPE_BUF, so each write lands whole
    local dt
    dt=$(awk -v s="$1" 'BEGIN { printf "%.4f", 0.1 / s }')
    rm -f "$tmp/in.fifo"
    mkfifo "$tmp/in.fifo"
    exec 3<>"$tmp/in.fifo"
    (
        n=$(( ($(stat -c%s "$tmp/demo.raw") + bs - 1) / bs ))
        for ((i = 0; i < n; i++)); do
            dd if="$tmp/demo.raw" bs=$bs skip=$i count=1 status=none
            sleep "$dt"
        done
        while :; do head -c $bs /dev/zero; sleep "$dt"; done
    ) >&3 &
    feeder=$!
}
stop_feeder() {
    kill "$feeder" 2>/dev/null || true
    wait "$feeder" 2>/dev/null || true
    feeder=""
    exec 3>&-
}
# Episode records without the "file", "clock" and "clip" fields, one per line.
episodes() { grep '"type":"episode"' "$1" | sed 's/"file":"[^"]*",//; s/"clock":"[^"]*",//; s/"clip":"[^"]*",//'; }

# --- 1 + 2: whole file, same episodes as analyze, clips, exec -------------------------
CM_TEST_INFILE=/dev/null "$CRYMETER" devices > "$tmp/devices.txt" || fail "devices exited $?"
grep -q crymeter_test "$tmp/devices.txt" || fail "devices does not list crymeter_test"

"$CRYMETER" analyze -f jsonl "$demo" > "$tmp/analyze.jsonl"
mkdir "$tmp/clips"
start_feeder 8
rc=0
"$CRYMETER" monitor --device crymeter_test --rate $rate --duration 62 --clips "$tmp/clips" \
    --level-step 1 --cooldown 0 --exec 'echo "$CRYMETER_EVENT $CRYMETER_CLASS $CRYMETER_START_S $CRYMETER_DBA_MAX" >> '"$tmp/exec.log" \
    > "$tmp/monitor.jsonl" 2> "$tmp/monitor.err" || rc=$?
stop_feeder
[ $rc -eq 0 ] || { cat "$tmp/monitor.err"; fail "monitor exited $rc"; }
episodes "$tmp/analyze.jsonl" > "$tmp/a.eps"
episodes "$tmp/monitor.jsonl" > "$tmp/m.eps"
[ -s "$tmp/a.eps" ] || fail "analyze found no episodes in demo.flac"
diff "$tmp/a.eps" "$tmp/m.eps" || fail "monitor episodes differ from analyze"
grep -q '"type":"monitor".*"frames_dropped":0,"overflows":0' "$tmp/monitor.jsonl" ||
    fail "frames dropped: $(grep '"type":"monitor"' "$tmp/monitor.jsonl")"
grep -q '"type":"summary"' "$tmp/monitor.jsonl" || fail "no summary record"
# Each episode's start record precedes its end record.
n_eps=$(wc -l < "$tmp/m.eps")
for id in $(seq 1 "$n_eps"); do
    s=$(grep -n "\"type\":\"start\",\"id\":$id," "$tmp/monitor.jsonl" | head -1 | cut -d: -f1)
    e=$(grep -n "\"type\":\"episode\",\"id\":$id," "$tmp/monitor.jsonl" | head -1 | cut -d: -f1)
    [ -n "$s" ] && [ -n "$e" ] && [ "$s" -lt "$e" ] || fail "episode $id: start record missing or late"
done
n_clips=$(find "$tmp/clips" -name 'crymeter-*.wav' | wc -l)
[ "$n_clips" -eq "$n_eps" ] || fail "$n_clips clips for $n_eps episodes"
# Wall clock on every record, each episode names its clip, one level record per second; the
# report links every clip.
python3 - "$tmp/monitor.jsonl" <<'PY' || fail "monitor records: clock, clip or level track wrong"
import json, os, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
for r in recs:
    if r["type"] in ("start", "excessive", "episode", "summary", "level"):
        assert iso.match(r.get("clock", "")), r
for r in recs:
    if r["type"] == "episode":
        assert os.path.exists(r["clip"]), r["clip"]
lv = [r for r in recs if r["type"] == "level"]
assert len(lv) == 62 and lv[-1]["end_s"] == 62.0, len(lv)
PY
"$CRYMETER" report -o "$tmp/night.html" "$tmp/monitor.jsonl" || fail "report of the monitor's records failed"
[ "$(grep -o '<audio controls preload="none" src="clips/crymeter-' "$tmp/night.html" | wc -l)" -eq "$n_eps" ] ||
    fail "report: not one clip player per episode, linked relative to the page"
# Clip of episode 1: 3 s pre-roll + duration + 1 s post-roll, to 0.05 s.
clip1=$(find "$tmp/clips" -name 'crymeter-*-1-*.wav' | head -1)
d1=$(grep '"type":"episode","id":1,' "$tmp/monitor.jsonl" | sed 's/.*"duration_s":\([0-9.]*\).*/\1/')
s1=$(grep '"type":"episode","id":1,' "$tmp/monitor.jsonl" | sed 's/.*"start_s":\([0-9.]*\).*/\1/')
len=$(soxi -D "$clip1")
awk -v l="$len" -v d="$d1" -v s="$s1" 'BEGIN { pre = s < 3 ? s : 3; want = pre + d + 1;
    exit !(l > want - 0.05 && l < want + 0.05) }' || fail "clip 1 is $len s, want pre-roll + $d1 + 1"
[ -s "$tmp/exec.log" ] || fail "--exec did not run"
# The first cry's start record: the same start as analyze's first cry episode (whole
# seconds: the variable's format is the tool's, not the JSON's).
c1=$(grep '"type":"episode"' "$tmp/analyze.jsonl" | grep '"class":"cry"' | head -1 |
     sed 's/.*"start_s":\([0-9]*\).*/\1/')
grep -q "^start cry $c1\\." "$tmp/exec.log" || { cat "$tmp/exec.log"; fail "--exec env vars wrong (want start cry $c1.*)"; }

# --- 3: SIGINT in the middle of the last cry (about 48-58 s of audio) ------------------
# Which episode that is comes from analyze (the model and segmenter decide how the cries
# split and merge): the last cry episode of at least 1.5 s, so there is a middle to stop in.
last=$(grep '"type":"episode"' "$tmp/analyze.jsonl" | grep '"class":"cry"' |
       awk -F'"duration_s":' '{ split($2, d, ","); if (d[1] >= 1.5) l = $0 } END { print l }')
[ -n "$last" ] || fail "analyze found no cry episode of 1.5 s or more in demo.flac"
lid=$(sed 's/.*"id":\([0-9]*\),.*/\1/' <<< "$last")
lstart=$(sed 's/.*"start_s":\([0-9.]*\),.*/\1/' <<< "$last")
start_feeder 4
"$CRYMETER" monitor --device crymeter_test --rate $rate > "$tmp/int.jsonl" 2> "$tmp/int.err" &
mon=$!
# 52 s of audio at 4x = 13 s; allow the probe a moment.
for _ in $(seq 1 300); do
    grep -q "\"type\":\"start\",\"id\":$lid," "$tmp/int.jsonl" 2>/dev/null && break
    sleep 0.1
done
grep -q "\"type\":\"start\",\"id\":$lid," "$tmp/int.jsonl" || { kill -INT $mon; fail "no start record for episode $lid"; }
sleep 0.5
kill -INT $mon
rc=0
wait $mon || rc=$?
mon=""
stop_feeder
[ $rc -eq 0 ] || { cat "$tmp/int.err"; fail "monitor after SIGINT exited $rc"; }
grep -q "\"type\":\"episode\",\"id\":$lid," "$tmp/int.jsonl" || fail "SIGINT: no end record for the open episode"
tail -2 "$tmp/int.jsonl" | head -1 | grep -q '"type":"summary"' || fail "SIGINT: no summary"
tail -1 "$tmp/int.jsonl" | grep -q '"type":"monitor"' || fail "SIGINT: no monitor record"
# Stopped mid-episode: it ends after its start and no later than where analyze ends it.
endl=$(grep "\"type\":\"episode\",\"id\":$lid," "$tmp/int.jsonl" | sed 's/.*"end_s":\([0-9.]*\),.*/\1/')
lend=$(sed 's/.*"end_s":\([0-9.]*\),.*/\1/' <<< "$last")
awk -v e="$endl" -v s="$lstart" -v f="$lend" 'BEGIN { exit !(e > s && e <= f + 0.01) }' ||
    fail "SIGINT: episode $lid ends at $endl (starts $lstart, analyze ends it at $lend)"

# --- 3b: the device stops delivering and its driver blocks for good -------------------
# The feeder sends 8 s of the demo and then nothing, holding the FIFO open: PortAudio's read
# blocks and Pa_AbortStream never returns. Ctrl-C must still give the summary of what was
# captured, a message naming the device, exit 1, and within seconds.
rm -f "$tmp/in.fifo"
mkfifo "$tmp/in.fifo"
exec 3<>"$tmp/in.fifo"
(
    for ((i = 0; i < 80; i++)); do
        dd if="$tmp/demo.raw" bs=3200 skip=$i count=1 status=none
        sleep 0.0125 # 8x real time, as above
    done
    exec sleep 600
) >&3 &
feeder=$!
"$CRYMETER" monitor --device crymeter_test --rate $rate -f jsonl > "$tmp/hang.jsonl" 2> "$tmp/hang.err" &
mon=$!
sleep 2.5
kill -INT $mon
t0=$(date +%s)
rc=0
wait $mon || rc=$?
mon=""
t1=$(date +%s)
stop_feeder
[ $rc -eq 1 ] || { cat "$tmp/hang.err"; fail "stuck device: exit $rc, expected 1"; }
[ $((t1 - t0)) -le 12 ] || fail "stuck device: took $((t1 - t0)) s to stop after SIGINT"
grep -q "crymeter_test" "$tmp/hang.err" || { cat "$tmp/hang.err"; fail "stuck device: no message naming it"; }
grep -q '"type":"summary"' "$tmp/hang.jsonl" || fail "stuck device: no summary"
grep -q '"device_error":true' "$tmp/hang.jsonl" || fail "stuck device: monitor record lacks device_error"
# Everything that arrived must be analysed, nothing dropped.
python3 - "$tmp/hang.jsonl" <<'PY' || fail "stuck device: captured audio not all analysed"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
s = [r for r in recs if r["type"] == "summary"][0]
m = [r for r in recs if r["type"] == "monitor"][0]
assert s["frames_read"] > 0 and s["frames_read"] == m["frames_captured"] == m["frames_analyzed"], (s, m)
assert m["frames_dropped"] == 0, m
PY

# --- 4: usage errors ---------------------------------------------------------------
# No FIFO any more: with nobody writing, opening it would block PortAudio's device probe.
export CM_TEST_INFILE=/dev/null
rc=0; "$CRYMETER" monitor --cooldown=-1 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "--cooldown=-1 exited $rc, want 2"
rc=0; "$CRYMETER" monitor --device 'no such device' --duration 1 2>"$tmp/nodev.err" || rc=$?
[ $rc -eq 2 ] || fail "unknown device exited $rc, want 2"
grep -q "no such device" "$tmp/nodev.err" || fail "unknown device: unclear message"
echo "PASS: monitor ($n_eps episodes = analyze, $n_clips clips, SIGINT closes episode $lid at $endl s)"
