#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end tests of `crymeter monitor` without a sound card, none of whose outcomes rests
# on how fast a thread, a FIFO or the scheduler runs (they pass on a loaded machine):
#   1. the real path: PortAudio captures the ALSA `file` PCM of tests/alsa/crymeter-test.conf,
#      whose infile is a FIFO that holds all 28 s of the input before the monitor starts
#      (so no read of the PCM can find a partial period and pad it with silence), with a
#      buffer that holds it all too (so the PCM, which has no clock, cannot outrun the
#      analysis). Episodes equal `crymeter analyze` on the same audio, nothing dropped,
#      --clips writes one WAV per episode with pre-roll, --exec sees CRYMETER_* variables.
#   2. the test seam (CRYMETER_TEST_CAPTURE, a script of include/crymeter/capture_script.h
#      in place of the device): the whole demo equals analyze; Ctrl-C in the middle of a
#      cry closes it; a stalled device, a driver that never returns, a host error, an
#      unplugged device, overflows, drops, NaN samples, a silent room, SIGTERM and SIGHUP,
#      --exec commands that hang, flood or fail, and a --clips folder removed mid-run each
#      give the summary and monitor records, counters that say what happened, and the
#      documented exit status.
#   3. devices lists the test PCM; bad options are usage errors.
# Needs: CRYMETER, CM_SOURCE_DIR; sox and python3 (in the Makefile's package list).
set -euo pipefail
: "${CRYMETER:?}" "${CM_SOURCE_DIR:?}"
command -v sox >/dev/null || { echo "FAIL: sox is needed to decode samples/demo.flac"; exit 1; }
demo="$CM_SOURCE_DIR/samples/demo.flac"
[ -f "$demo" ] || { echo "FAIL: missing $demo"; exit 1; }

tmp=$(mktemp -d)
holder=""
mon=""
cleanup() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null || true
    [ -n "$mon" ] && kill -9 "$mon" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$CM_SOURCE_DIR/tests/alsa/crymeter-test.conf"
rate=16000
sox "$demo" -r $rate -c 1 -b 16 "$tmp/demo.wav"
# Episode records without the "file", "clock" and "clip" fields, one per line.
episodes() { grep '"type":"episode"' "$1" | sed 's/"file":"[^"]*",//; s/"clock":"[^"]*",//; s/"clip":"[^"]*",//' || true; }
# field FILE TYPE NAME: the numeric or boolean field NAME of the first TYPE record.
field() { grep "\"type\":\"$2\"" "$1" | head -1 | sed -n "s/.*\"$3\":\\([^,}]*\\).*/\\1/p"; }
# Every line of FILE is one whole JSON object.
all_json() {
    python3 -c 'import json, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    assert l.endswith("\n"), "line %d: not a whole line" % n
    json.loads(l)' "$1"
}

# --- 1: the real path ----------------------------------------------------------------
CM_TEST_INFILE=/dev/null "$CRYMETER" devices > "$tmp/devices.txt" || fail "devices exited $?"
grep -q crymeter_test "$tmp/devices.txt" || fail "devices does not list crymeter_test"

sox "$tmp/demo.wav" "$tmp/cut.wav" trim 0 28
sox "$tmp/demo.wav" -t raw -e signed -b 16 -L "$tmp/in.raw" trim 0 30
"$CRYMETER" analyze -f jsonl "$tmp/cut.wav" > "$tmp/analyze28.jsonl"
mkfifo "$tmp/in.fifo"
# The holder opens the FIFO read-write (so PortAudio's device probe neither blocks on it nor
# makes a writer see EPIPE), makes it hold 1 MiB, writes all 30 s (960,000 bytes) at once,
# says so, and then trickles silence: the audio past 28 s and the silence are read after
# --duration is reached and discarded; they are there so that PortAudio's read never blocks
# for good and stopping the stream returns.
python3 - "$tmp/in.fifo" "$tmp/in.raw" "$tmp/ready" <<'PY' &
import fcntl, os, sys, time
fifo, data, ready = sys.argv[1:4]
fd = os.open(fifo, os.O_RDWR)
fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ; 1 MiB is Linux's default pipe-max-size
buf = open(data, "rb").read()
while buf:
    buf = buf[os.write(fd, buf):]
open(ready, "w").close()
while True:
    time.sleep(0.05)
    os.write(fd, bytes(3200))
PY
holder=$!
while [ ! -e "$tmp/ready" ]; do
    kill -0 "$holder" 2>/dev/null || fail "the FIFO holder died (F_SETPIPE_SZ refused?)"
    sleep 0.05
done
mkdir "$tmp/clips"
rc=0
CM_TEST_INFILE="$tmp/in.fifo" "$CRYMETER" monitor --device crymeter_test --rate $rate \
    --duration 28 --buffer 32 --clips "$tmp/clips" --level-step 1 --cooldown 0 \
    --exec 'echo "$CRYMETER_EVENT $CRYMETER_CLASS $CRYMETER_START_S $CRYMETER_DBA_MAX" >> '"$tmp/exec.log" \
    > "$tmp/monitor.jsonl" 2> "$tmp/monitor.err" || rc=$?
kill "$holder"; wait "$holder" 2>/dev/null || true; holder=""
[ $rc -eq 0 ] || { cat "$tmp/monitor.err"; fail "monitor exited $rc"; }
episodes "$tmp/analyze28.jsonl" > "$tmp/a.eps"
episodes "$tmp/monitor.jsonl" > "$tmp/m.eps"
[ -s "$tmp/a.eps" ] || fail "analyze found no episodes in the first 28 s of demo.flac"
diff "$tmp/a.eps" "$tmp/m.eps" || fail "ALSA: monitor episodes differ from analyze"
grep -q '"type":"monitor".*"frames_analyzed":448000,"frames_dropped":0,"overflows":0' "$tmp/monitor.jsonl" ||
    fail "ALSA: frames: $(grep '"type":"monitor"' "$tmp/monitor.jsonl")"
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
assert len(lv) == 28 and lv[-1]["end_s"] == 28.0, len(lv)
PY
"$CRYMETER" report -o "$tmp/night.html" "$tmp/monitor.jsonl" || fail "report of the monitor's records failed"
[ "$(grep -o '<audio controls preload="none" src="clips/crymeter-' "$tmp/night.html" | wc -l)" -eq "$n_eps" ] ||
    fail "report: not one clip player per episode, linked relative to the page"
# Beside each clip, how to correct the detector with it (crymeter adapt).
[ "$(grep -o 'Move it into <code>clips/[a-z-]*/</code>[^"]*then <code>crymeter adapt -o home.json clips</code>' "$tmp/night.html" | wc -l)" -eq "$n_eps" ] ||
    fail "report: not one correction hint per clip"
# Clip of episode 1: 3 s pre-roll + duration + 1 s post-roll, to 0.05 s.
clip1=$(find "$tmp/clips" -name 'crymeter-*-1-*.wav' | head -1)
d1=$(field "$tmp/monitor.jsonl" 'episode","id":1,"file' duration_s)
s1=$(field "$tmp/monitor.jsonl" 'episode","id":1,"file' start_s)
len=$(soxi -D "$clip1")
awk -v l="$len" -v d="$d1" -v s="$s1" 'BEGIN { pre = s < 3 ? s : 3; want = pre + d + 1;
    exit !(l > want - 0.05 && l < want + 0.05) }' || fail "clip 1 is $len s, want pre-roll + $d1 + 1"
[ -s "$tmp/exec.log" ] || fail "--exec did not run"
# The first cry's start record: the same start as analyze's first cry episode (whole
# seconds: the variable's format is the tool's, not the JSON's).
c1=$(grep '"type":"episode"' "$tmp/analyze28.jsonl" | grep '"class":"cry"' | head -1 |
     sed 's/.*"start_s":\([0-9]*\).*/\1/')
grep -q "^start cry $c1\\." "$tmp/exec.log" || { cat "$tmp/exec.log"; fail "--exec env vars wrong (want start cry $c1.*)"; }
[ -z "$(find "$tmp/clips" -name '*.part')" ] || fail "temporary clip files left behind"
pass "ALSA file PCM: $n_eps episodes = analyze, 448000 frames, $n_clips clips, --exec"

# --- 2: the test seam ----------------------------------------------------------------
# mon_run NAME SCRIPT [monitor options...]: runs the monitor on SCRIPT in the foreground;
# stdout in $tmp/NAME.jsonl, stderr in $tmp/NAME.err, exit status in $rc.
mon_run() {
    local name=$1 script=$2
    shift 2
    printf '%b' "$script" > "$tmp/$name.script"
    rc=0
    CRYMETER_TEST_CAPTURE="$tmp/$name.script" "$CRYMETER" monitor -f jsonl "$@" \
        > "$tmp/$name.jsonl" 2> "$tmp/$name.err" || rc=$?
}
# mon_start NAME SCRIPT [options...]: the same in the background ($mon); mon_wait waits.
mon_start() {
    local name=$1 script=$2
    shift 2
    printf '%b' "$script" > "$tmp/$name.script"
    CRYMETER_TEST_CAPTURE="$tmp/$name.script" "$CRYMETER" monitor -f jsonl "$@" \
        > "$tmp/$name.jsonl" 2> "$tmp/$name.err" &
    mon=$!
}
mon_wait() { rc=0; wait "$mon" || rc=$?; mon=""; }
# until_grep PATTERN FILE: waits for a line; a record that never comes fails the test after
# 300 s (the scripted device's clock is its audio, so a slow machine alone never meets it).
until_grep() {
    local i=0
    while ! grep -q "$1" "$2" 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
        [ "$i" -lt 6000 ] || fail "no /$1/ in $2 after 300 s: $(tail -c 300 "$2")"
    done
}
# expect_run NAME RC PATTERN: exit status, a message on stderr, whole JSON lines, and the
# summary and monitor records last.
expect_run() {
    [ "$rc" -eq "$2" ] || { cat "$tmp/$1.err"; fail "$1: exit $rc, expected $2"; }
    [ -z "$3" ] || grep -Eq "$3" "$tmp/$1.err" || { cat "$tmp/$1.err"; fail "$1: no /$3/ on stderr"; }
    all_json "$tmp/$1.jsonl" || fail "$1: output is not whole JSON lines"
    tail -2 "$tmp/$1.jsonl" | head -1 | grep -q '"type":"summary"' || fail "$1: no summary"
    tail -1 "$tmp/$1.jsonl" | grep -q '"type":"monitor"' || fail "$1: no monitor record"
}
# all_analysed NAME FRAMES: the summary read FRAMES, all captured, all analysed, no drops.
all_analysed() {
    local r c a d
    r=$(field "$tmp/$1.jsonl" summary frames_read)
    c=$(field "$tmp/$1.jsonl" monitor frames_captured)
    a=$(field "$tmp/$1.jsonl" monitor frames_analyzed)
    d=$(field "$tmp/$1.jsonl" monitor frames_dropped)
    [ "$r" = "$2" ] && [ "$c" = "$2" ] && [ "$a" = "$2" ] && [ "$d" = 0 ] ||
        fail "$1: read $r captured $c analysed $a dropped $d, expected $2 0"
}

"$CRYMETER" analyze -f jsonl "$demo" > "$tmp/analyze.jsonl"
mon_run whole "name fake mic\naudio $tmp/demo.wav\npause\n" --duration 62
expect_run whole 0 ""
episodes "$tmp/analyze.jsonl" > "$tmp/a.eps"
episodes "$tmp/whole.jsonl" > "$tmp/m.eps"
diff "$tmp/a.eps" "$tmp/m.eps" || fail "seam: monitor episodes differ from analyze"
all_analysed whole 992000
grep -q '"type":"monitor","device":"fake mic"' "$tmp/whole.jsonl" || fail "seam: device name"
pass "seam: whole demo, $(wc -l < "$tmp/m.eps") episodes = analyze"

# Ctrl-C in the middle of the last cry: the device delivers the demo up to half a second
# (rounded down to whole seconds) before analyze's end of that cry and waits (pause), so the
# open episode at the signal is the same whenever the signal comes. (The cry's start record
# comes before its end in audio time: min_episode_s is 1 s and the episode outlasts it.)
last=$(grep '"type":"episode"' "$tmp/analyze.jsonl" | grep '"class":"cry"' |
       awk -F'"duration_s":' '{ split($2, d, ","); if (d[1] >= 1.5) l = $0 } END { print l }')
[ -n "$last" ] || fail "analyze found no cry episode of 1.5 s or more in demo.flac"
lid=$(sed 's/.*"id":\([0-9]*\),.*/\1/' <<< "$last")
lstart=$(sed 's/.*"start_s":\([0-9.]*\),.*/\1/' <<< "$last")
lend=$(sed 's/.*"end_s":\([0-9.]*\),.*/\1/' <<< "$last")
cut=$(awk -v e="$lend" 'BEGIN { printf "%d", e - 0.5 }')
mon_start int "audio $tmp/demo.wav $cut\nmark $tmp/int.all\npause\n"
until_grep "\"type\":\"start\",\"id\":$lid," "$tmp/int.jsonl"
while [ ! -e "$tmp/int.all" ]; do sleep 0.05; done # all $cut s are in (the signal may come sooner; the count would not be fixed)
kill -INT "$mon"
mon_wait
expect_run int 0 ""
grep -q "\"type\":\"episode\",\"id\":$lid," "$tmp/int.jsonl" || fail "SIGINT: no end record for the open episode"
all_analysed int $((cut * 16000))
endl=$(field "$tmp/int.jsonl" "episode\",\"id\":$lid,\"file" end_s)
awk -v e="$endl" -v s="$lstart" -v f="$lend" 'BEGIN { exit !(e > s && e <= f + 0.01) }' ||
    fail "SIGINT: episode $lid ends at $endl (starts $lstart, analyze ends it at $lend)"
pass "SIGINT mid-cry closes episode $lid at $endl s"

for sig in TERM HUP; do
    mon_start "sig$sig" "audio $tmp/demo.wav 10\nmark $tmp/sig$sig.all\npause\n"
    while [ ! -e "$tmp/sig$sig.all" ]; do sleep 0.05; done
    kill -$sig "$mon"
    mon_wait
    expect_run "sig$sig" 0 ""
    all_analysed "sig$sig" 160000
done
pass "SIGTERM and SIGHUP: summary of all 10 s, exit 0"

# A device that goes quiet (stall), and one whose driver then never returns (hang): the
# summary of all 8 s captured, device_error, exit 1, a message naming the device.
mon_run stall "name quiet mic\naudio $tmp/demo.wav 8\nstall\n"
expect_run stall 1 "device 'quiet mic': no audio for"
all_analysed stall 128000
[ "$(field "$tmp/stall.jsonl" monitor device_error)" = true ] || fail "stall: device_error not set"
mon_run hang "name stuck mic\naudio $tmp/demo.wav 8\nhang\n"
expect_run hang 1 "device 'stuck mic' did not stop within 5 s \\(driver not responding\\)"
all_analysed hang 128000
[ "$(field "$tmp/hang.jsonl" monitor device_error)" = true ] || fail "hang: device_error not set"
pass "stalled device and stuck driver: summary of all 8 s, exit 1"

mon_run gone "name usb mic\naudio $tmp/demo.wav 8\nvanish\n"
expect_run gone 1 "device 'usb mic' stopped delivering audio \\(device unavailable"
all_analysed gone 128000
mon_run hosterr "audio $tmp/demo.wav 8\nerror ALSA: snd_pcm_readi: Input/output error\n"
expect_run hosterr 1 "Input/output error"
all_analysed hosterr 128000
pass "unplugged device and host error: summary of all 8 s, exit 1"

mon_run overflow "overflow\naudio $tmp/demo.wav 5\noverflow\npause\n" --duration 5
expect_run overflow 3 "2 input overflows"
[ "$(field "$tmp/overflow.jsonl" monitor overflows)" = 2 ] || fail "overflow: count"
all_analysed overflow 80000
# 2 s in one write into a 0.5 s buffer (8192 frames): at least 23808 frames dropped.
mon_run burst "silence 0.5\nburst 2\nsilence 2\npause\n" --buffer 0.5 --duration 2.5
expect_run burst 3 "frames did not fit the buffer"
dropped=$(field "$tmp/burst.jsonl" monitor frames_dropped)
[ "$dropped" -ge 23808 ] || fail "burst: $dropped frames dropped, expected >= 23808"
pass "overflows and drops counted, exit 3"

mon_run nan "tone 440 1\nnan 0.5\ntone 440 1\npause\n" --duration 2.5
expect_run nan 1 "delivered 8000 NaN/Inf samples"
[ "$(field "$tmp/nan.jsonl" summary nonfinite_samples)" = 8000 ] || fail "nan: count"
all_analysed nan 40000
# 10 s of digital silence: a quiet room, not a stalled device.
mon_run silence "silence 10\npause\n" --duration 10
expect_run silence 0 ""
all_analysed silence 160000
[ "$(field "$tmp/silence.jsonl" monitor device_error)" = false ] || fail "silence: device_error"
pass "NaN samples counted (exit 1); silence is not a stall"

# --exec commands that hang, flood standard output, or fail: counted, never in the records.
mon_run exhang "audio $tmp/demo.wav\npause\n" --duration 62 --cooldown 0 --exec 'sleep 60' --exec-timeout 0.2
expect_run exhang 0 "killed"
runs=$(field "$tmp/exhang.jsonl" monitor exec_runs)
[ "$runs" -ge 1 ] && [ "$(field "$tmp/exhang.jsonl" monitor exec_failed)" = "$runs" ] ||
    fail "exec hang: $(grep '"type":"monitor"' "$tmp/exhang.jsonl")"
n_rec=$(grep -c '"type":"\(start\|excessive\|episode\)"' "$tmp/exhang.jsonl")
[ $((runs + $(field "$tmp/exhang.jsonl" monitor exec_skipped))) -eq "$n_rec" ] ||
    fail "exec hang: runs + skipped != $n_rec records"
mon_run exflood "audio $tmp/demo.wav 20\npause\n" --duration 20 --cooldown 0 --exec 'head -c 3000000 /dev/zero | tr "\\0" x'
expect_run exflood 0 ""
[ "$(field "$tmp/exflood.jsonl" monitor exec_failed)" = 0 ] || fail "exec flood: failed"
mon_run exfail "audio $tmp/demo.wav 20\npause\n" --duration 20 --cooldown 0 --exec 'exit 3'
expect_run exfail 0 "command exited with status 3"
[ "$(field "$tmp/exfail.jsonl" monitor exec_failed)" = "$(field "$tmp/exfail.jsonl" monitor exec_runs)" ] ||
    fail "exec fail: counts"
pass "--exec: hanging (killed), flooding (stdout not in the records) and failing commands counted"

# The --clips folder removed while monitoring: the device tells the test it has started
# (so the clip writer exists), then waits until the test has removed the folder. Clips fail
# with a message and are counted, analysis goes on, records stay whole.
mkdir "$tmp/gone"
mon_start clipsgone "mark $tmp/started\nwait $tmp/go\naudio $tmp/demo.wav 20\npause\n" --duration 20 --clips "$tmp/gone"
while [ ! -e "$tmp/started" ]; do sleep 0.05; done
rm -rf "$tmp/gone"
touch "$tmp/go"
mon_wait
expect_run clipsgone 0 "gone"
[ "$(field "$tmp/clipsgone.jsonl" monitor clips_written)" = 0 ] || fail "clips gone: clips written"
[ "$(field "$tmp/clipsgone.jsonl" monitor clips_failed)" -ge 1 ] || fail "clips gone: no failure counted"
all_analysed clipsgone 320000
pass "--clips folder removed: clips failed and counted, analysis complete"

# kill -9 at three points of a run (after the first start record, after the first episode,
# after the third start): every line already printed is whole JSON, every named clip is a
# whole WAV file (clips are written under a hidden temporary name and renamed), and an
# older file in the folder is untouched.
mkdir "$tmp/k9"
sox -n -r 16000 -c 1 -b 16 "$tmp/k9/crymeter-old.wav" synth 1 sine 300
old_sum=$(md5sum < "$tmp/k9/crymeter-old.wav")
for point in '"type":"start","id":1,' '"type":"episode","id":1,' '"type":"start","id":3,'; do
    mon_start kill9 "audio $tmp/demo.wav\npause\n" --clips "$tmp/k9" --post-roll 0
    until_grep "$point" "$tmp/kill9.jsonl"
    kill -9 "$mon"
    mon_wait
    [ "$rc" -eq 137 ] || fail "kill -9: exit $rc"
    all_json "$tmp/kill9.jsonl" || fail "kill -9 after $point: a record is not whole"
    for f in "$tmp"/k9/crymeter-*.wav; do
        soxi -D "$f" > /dev/null 2>&1 || fail "kill -9 after $point: $f is not a whole WAV"
    done
done
[ "$(md5sum < "$tmp/k9/crymeter-old.wav")" = "$old_sum" ] || fail "kill -9: an older file changed"
pass "kill -9 at three points: whole JSON lines, whole clips, older files kept"

# --- 3: usage errors -------------------------------------------------------------------
export CM_TEST_INFILE=/dev/null
rc=0; "$CRYMETER" monitor --cooldown=-1 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "--cooldown=-1 exited $rc, want 2"
rc=0; "$CRYMETER" monitor --buffer 0.1 2>"$tmp/buf.err" || rc=$?
[ $rc -eq 2 ] && grep -q -- "--buffer" "$tmp/buf.err" || fail "--buffer 0.1 exited $rc, want 2"
rc=0; "$CRYMETER" monitor --device 'no such device' --duration 1 2>"$tmp/nodev.err" || rc=$?
[ $rc -eq 2 ] || fail "unknown device exited $rc, want 2"
grep -q "no such device" "$tmp/nodev.err" || fail "unknown device: unclear message"
printf 'tone 440 1\nsing\n' > "$tmp/bad.script"
rc=0; CRYMETER_TEST_CAPTURE="$tmp/bad.script" "$CRYMETER" monitor 2>"$tmp/bad.err" || rc=$?
[ $rc -eq 1 ] && grep -q "bad.script:2: unknown command 'sing'" "$tmp/bad.err" || fail "bad script: exit $rc $(cat "$tmp/bad.err")"
echo "PASS: monitor"
