#!/usr/bin/env bash
# CPU per hour of monitored audio and frames dropped (issue 4, README "monitor"): the demo,
# repeated to SECONDS (default 620), is fed as raw 16 kHz mono S16 through a FIFO into the
# ALSA `file` PCM of tests/alsa/crymeter-test.conf at SPEED x real time (default 10), and
# `crymeter monitor` runs under /usr/bin/time. Needs a build in build/, sox, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_=${SECONDS_AUDIO:-620}
SPEED=${SPEED:-10}
BIN=${CRYMETER:-./build/crymeter}
tmp=$(mktemp -d)
trap 'kill $feeder 2>/dev/null || true; rm -rf "$tmp"' EXIT
sox samples/demo.flac -r 16000 -c 1 -b 16 -e signed -t raw "$tmp/in.raw" repeat 20 trim 0 "$SECONDS_"
mkfifo "$tmp/in.fifo"
exec 3<>"$tmp/in.fifo" # held open so the device probe neither blocks nor sees EOF
python3 - "$tmp/in.raw" "$tmp/in.fifo" "$SPEED" <<'PY' &
import sys, time
data, speed, bs = open(sys.argv[1], "rb").read(), float(sys.argv[3]), 3200  # 0.1 s blocks
with open(sys.argv[2], "wb", buffering=0) as f:
    t0 = time.time()
    for i in range(0, len(data), bs):
        f.write(data[i:i + bs])
        d = t0 + (i // bs + 1) * 0.1 / speed - time.time()
        if d > 0: time.sleep(d)
    while True:
        f.write(b"\0" * bs); time.sleep(0.1 / speed)
PY
feeder=$!
export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$PWD/tests/alsa/crymeter-test.conf"
export CM_TEST_INFILE="$tmp/in.fifo"
/usr/bin/time -f '%U %S' -o "$tmp/time" "$BIN" monitor --device crymeter_test --rate 16000 \
    --duration "$SECONDS_" --format jsonl > "$tmp/out.jsonl"
read -r u s < "$tmp/time"
awk -v u="$u" -v s="$s" -v t="$SECONDS_" 'BEGIN {
    printf "CPU %.2f s for %d s of audio: %.1f s per hour (%.2f %% of a core)\n",
           u + s, t, (u + s) * 3600 / t, (u + s) * 100 / t }'
tail -1 "$tmp/out.jsonl" | python3 -c 'import json, sys
r = json.loads(sys.stdin.read())
print("frames dropped", r["frames_dropped"], "overflows", r["overflows"])'
grep -c '"type":"start"' "$tmp/out.jsonl" | sed 's/^/start records /'
