#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `crymeter monitor --on-hup reload` (what the service's `systemctl reload` sends): SIGHUP
# reads the --model file again and scores with it from then on; a file that does not load or
# a model the running analysis cannot switch to is reported and the model in use stays.
# The scripted device (capture_script.h) delivers the demo three times, stopping after each
# (`mark` tells the test it got there, `wait` holds the audio until the test says go), so
# each reload happens between two whole copies of the demo whatever the machine's speed:
#   copy 1: the model file as given (the default model);
#   then a truncated file and framenet.json (another model's frame network): both refused,
#   the messages name the file and why;
#   copy 2: still the same model: copies 1 and 2 give analyze's episodes on the same audio;
#   then a model whose cry threshold no window reaches: read again;
#   copy 3: no cry episode; the speech is still found.
# Also: --on-hup with a bad value is a usage error, and without --model a reload says there
# is no file to read again. SIGHUP without --on-hup stops (test_monitor.sh).
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
sox "$CM_SOURCE_DIR/samples/demo.flac" -r 16000 -c 1 -b 16 "$T/demo.wav"
cp "$CM_SOURCE_DIR/models/default.json" "$T/good.json"
python3 -c 'import json, sys
m = json.load(open(sys.argv[1])); m["detector"]["threshold"]["cry"] = 0.99999
json.dump(m, open(sys.argv[2], "w"))' "$T/good.json" "$T/deaf.json"
head -c 300 "$T/good.json" > "$T/cut.json"
cp "$T/good.json" "$T/model.json"
printf 'name reload\naudio %s\nmark %s/m1\nwait %s/go1\naudio %s\nmark %s/m2\nwait %s/go2\naudio %s\npause\n' \
    "$T/demo.wav" "$T" "$T" "$T/demo.wav" "$T" "$T" "$T/demo.wav" > "$T/script"

# wait_for PATTERN FILE | wait_file PATH: until it is there (a hung monitor fails the test
# by ctest's timeout, never by a clock of ours).
wait_for() { until grep -q -- "$1" "$2" 2>/dev/null; do sleep 0.1; done; }
wait_file() { until [ -e "$1" ]; do sleep 0.1; done; }
CRYMETER_TEST_CAPTURE="$T/script" "$CRYMETER" monitor -f jsonl --model "$T/model.json" \
    --on-hup reload --duration 186 > "$T/mon.jsonl" 2> "$T/mon.err" &
pid=$!
wait_file "$T/m1"
cp "$T/cut.json" "$T/model.json"
kill -HUP $pid
wait_for "truncated" "$T/mon.err"
cp "$CM_SOURCE_DIR/models/framenet.json" "$T/model.json"
kill -HUP $pid
wait_for "frame network" "$T/mon.err"
touch "$T/go1"
wait_file "$T/m2"
cp "$T/deaf.json" "$T/model.json"
kill -HUP $pid
wait_for "read the model again" "$T/mon.err"
touch "$T/go2"
wait $pid
rc=$?
[ $rc = 0 ] && ok || bad "monitor exited $rc: $(cat "$T/mon.err")"
grep -q "reload: $T/model.json: .*truncated.*; the model in use stays" "$T/mon.err" && ok ||
    bad "no message for the truncated file: $(cat "$T/mon.err")"
grep -q "reload: $T/model.json: .*frame network.*; the model in use stays" "$T/mon.err" && ok ||
    bad "no message for the incompatible model: $(cat "$T/mon.err")"
grep -q "read the model again: $T/model.json; it scores from here on" "$T/mon.err" && ok ||
    bad "no message for the reload: $(cat "$T/mon.err")"

# Up to the reload, the episodes are analyze's on the same audio with the same model (the
# refused reloads changed nothing); after it, no crying, and the speech is still found.
sox "$T/demo.wav" "$T/demo.wav" "$T/demo.wav" "$T/three.wav"
"$CRYMETER" analyze -f jsonl --model "$T/good.json" "$T/three.wav" > "$T/ana.jsonl" || bad "analyze failed"
# episodes FILE FROM TO: "class start end" of each episode starting in [FROM, TO) seconds.
episodes() {
    python3 -c 'import json, sys
lo, hi = float(sys.argv[2]), float(sys.argv[3])
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "episode" and lo <= r["start_s"] < hi:
        print(r["class"], "%.3f" % r["start_s"], "%.3f" % r["end_s"])' "$@"
}
episodes "$T/mon.jsonl" 0 124 > "$T/mon12"
episodes "$T/ana.jsonl" 0 124 > "$T/ana12"
[ "$(grep -c '^cry ' "$T/mon12")" -ge 4 ] && ok || bad "copies 1 and 2: fewer than 4 cry episodes: $(cat "$T/mon12")"
diff -u "$T/ana12" "$T/mon12" > /dev/null && ok ||
    bad "copies 1 and 2 (two refused reloads) differ from analyze: $(diff "$T/ana12" "$T/mon12")"
episodes "$T/mon.jsonl" 124 186 > "$T/mon3"
grep -q '^cry ' "$T/mon3" && bad "copy 3, after the reload: cry episodes: $(cat "$T/mon3")" || ok
grep -q '^vocal ' "$T/mon3" && ok || bad "copy 3: no speech episode: $(cat "$T/mon3")"

# Without --model there is nothing to read again; monitoring goes on.
printf 'name reload2\naudio %s 10\nmark %s/n1\nwait %s/ngo\naudio %s 10\npause\n' \
    "$T/demo.wav" "$T" "$T" "$T/demo.wav" > "$T/script2"
CRYMETER_TEST_CAPTURE="$T/script2" "$CRYMETER" monitor -f jsonl --on-hup reload --duration 20 \
    > "$T/mon2.jsonl" 2> "$T/mon2.err" &
pid=$!
wait_file "$T/n1"
kill -HUP $pid
wait_for "nothing to read again" "$T/mon2.err"
touch "$T/ngo"
wait $pid
rc=$?
[ $rc = 0 ] && grep -q '"type":"monitor"' "$T/mon2.jsonl" && ok || bad "without --model: exit $rc"

expect_stderr 2 "--on-hup=later: expected stop or reload" -- "$CRYMETER" monitor --on-hup later
finish
