#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Crash safety of analyze: killed with SIGKILL at three moments of a run that writes many
# records (10 min of audio, a level record every 0.1 s, to a file and to a pipe), every
# line already written is a whole JSON object (each record is flushed whole: cm_rep_finish). The monitor's
# side (records and clips) is in test_monitor.sh.
# Needs: CRYMETER, CM_SOURCE_DIR; sox, python3.
set -euo pipefail
: "${CRYMETER:?}" "${CM_SOURCE_DIR:?}"
. "$CM_SOURCE_DIR/tests/cli/lib.sh"
sox "$CM_SOURCE_DIR/samples/demo.flac" "$T/long.flac" repeat 9
whole() {
    python3 -c 'import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "the last line is cut: %r" % lines[-1][-80:]
for l in lines[:-1]: json.loads(l)
print(len(lines) - 1)' "$1"
}
for at in 1 500 3000; do
    rm -f "$T/out.jsonl"
    "$CRYMETER" analyze -f jsonl --level-step 0.1 -o "$T/out.jsonl" "$T/long.flac" 2>/dev/null &
    pid=$!
    # Wait (no time limit: ctest's timeout is the limit) until AT lines are out, then kill.
    while [ "$(cat "$T/out.jsonl" 2>/dev/null | wc -l)" -lt "$at" ] && kill -0 $pid 2>/dev/null; do
        sleep 0.01
    done
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    n=$(whole "$T/out.jsonl") && ok || bad "-o after $at lines: $(whole "$T/out.jsonl" 2>&1 | tail -1)"
done
# The same through a pipe: what the reader got is whole lines.
( "$CRYMETER" analyze -f jsonl --level-step 0.1 "$T/long.flac" 2>/dev/null & echo $! > "$T/pid"; wait ) |
    { head -c 200000 > "$T/piped.jsonl"; kill -9 "$(cat "$T/pid")" 2>/dev/null || true; cat > /dev/null; }
python3 -c 'import json, sys
lines = open(sys.argv[1]).read().split("\n")
for l in lines[:-1]: json.loads(l)' "$T/piped.jsonl" && ok || bad "pipe: a whole line is broken"
finish
