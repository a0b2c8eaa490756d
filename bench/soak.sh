#!/usr/bin/env bash
# Soak (issue 14): long runs with resident memory sampled once a second, too long for
# make check.
#   bash bench/soak.sh monitor [HOURS]  `crymeter monitor` on HOURS (default 1) of audio
#       (samples/demo.flac repeated) from the scripted test device, which delivers as fast
#       as the analysis takes it; its episodes must equal `crymeter analyze` on the same
#       file (every field but "file" and monitor's wall-clock "clock"), with nothing dropped.
#   bash bench/soak.sh analyze [HOURS]  `crymeter analyze` on a FLAC file of HOURS (default
#       24) of the same audio.
# Prints the run's wall time and speed, RSS at start / max / end, and the RSS slope (least
# squares over the samples after the first 10 %, in KiB per hour of audio): a flat line is
# constant memory. Needs a build in build/, sox, python3. Writes into a temporary folder
# (24 h of FLAC is about 1.4 GB) that it removes.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:?usage: bench/soak.sh monitor|analyze [HOURS]}
BIN=${CRYMETER:-$PWD/build/crymeter}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

reps() { python3 -c "import math; print(math.ceil($1 * 3600 / 62))"; }

# sample PID OUT: "seconds rss_kib" lines every second while PID lives.
sample() {
    local t0=$SECONDS
    while kill -0 "$1" 2>/dev/null; do
        awk -v t=$((SECONDS - t0)) '/^VmRSS/ { print t, $2 }' "/proc/$1/status" 2>/dev/null >> "$2" || true
        sleep 1
    done
}
# report RSSFILE AUDIO_S WALL_S
report() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
audio, wall = float(sys.argv[2]), float(sys.argv[3])
if len(rows) < 3:
    print("too few RSS samples:", rows); sys.exit(0)
tail = rows[len(rows) // 10:]
n = len(tail); mt = sum(t for t, _ in tail) / n; mr = sum(r for _, r in tail) / n
var = sum((t - mt) ** 2 for t, _ in tail)
slope = sum((t - mt) * (r - mr) for t, r in tail) / var if var else 0.0  # KiB per wall s
per_audio_h = slope * wall / (audio / 3600.0)
print("audio %.0f s in %.0f s wall: %.0fx real time" % (audio, wall, audio / wall))
print("RSS KiB: first %.0f, max %.0f, last %.0f; %d samples" %
      (rows[0][1], max(r for _, r in rows), rows[-1][1], len(rows)))
print("RSS slope: %.1f KiB per hour of audio (%.3f KiB/s of wall time)" % (per_audio_h, slope))
PY
}

case "$MODE" in
monitor)
    H=${2:-1}
    n=$(reps "$H")
    sox samples/demo.flac -r 16000 -c 1 -b 16 "$tmp/demo.wav"
    sox samples/demo.flac -r 16000 -c 1 -b 16 "$tmp/long.wav" repeat $((n - 1))
    printf 'name soak\naudio %s\npause\n' "$tmp/long.wav" > "$tmp/script"
    total=$((n * 62))
    t0=$(date +%s.%N)
    CRYMETER_TEST_CAPTURE="$tmp/script" "$BIN" monitor -f jsonl --duration $total \
        > "$tmp/mon.jsonl" 2> "$tmp/mon.err" &
    pid=$!
    sample $pid "$tmp/rss" &
    rc=0; wait $pid || rc=$?
    t1=$(date +%s.%N)
    wait
    [ $rc -eq 0 ] || { cat "$tmp/mon.err"; echo "monitor exited $rc"; exit 1; }
    report "$tmp/rss" $total "$(echo "$t1 - $t0" | bc)"
    tail -1 "$tmp/mon.jsonl" | python3 -c 'import json, sys
r = json.loads(sys.stdin.read())
print("frames captured %d analysed %d dropped %d overflows %d" % (r["frames_captured"],
      r["frames_analyzed"], r["frames_dropped"], r["overflows"]))'
    "$BIN" analyze -f jsonl "$tmp/long.wav" > "$tmp/ana.jsonl"
    # The episodes must be the same: every field of every episode record, except those that
    # name the input ("file") or tell the wall-clock time monitor heard it at ("clock", which
    # analyze has only with --start). A record missing, added or different fails the soak.
    python3 - "$tmp/ana.jsonl" "$tmp/mon.jsonl" <<'PY' || exit 1
import json, sys
IGNORED = {"file", "clock"}
def episodes(path):
    out = []
    for line in open(path):
        r = json.loads(line)
        if r.get("type") == "episode":
            out.append({k: v for k, v in r.items() if k not in IGNORED})
    return out
a, m = episodes(sys.argv[1]), episodes(sys.argv[2])
for i, (x, y) in enumerate(zip(a, m)):
    if x != y:
        keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
        print("episodes DIFFER from analyze at episode %d: %s" % (i + 1, ", ".join(
            "%s %r (analyze) vs %r (monitor)" % (k, x.get(k), y.get(k)) for k in keys)))
        sys.exit(1)
if len(a) != len(m):
    print("episodes DIFFER from analyze: %d episodes against monitor's %d" % (len(a), len(m)))
    sys.exit(1)
print("episodes: %d, the same as analyze (every field but %s)" % (len(m), ", ".join(sorted(IGNORED))))
PY
    ;;
analyze)
    H=${2:-24}
    n=$(reps "$H")
    echo "making $((n * 62)) s of FLAC ..."
    sox samples/demo.flac "$tmp/long.flac" repeat $((n - 1))
    t0=$(date +%s.%N)
    "$BIN" analyze -f jsonl "$tmp/long.flac" > "$tmp/ana.jsonl" 2> "$tmp/ana.err" &
    pid=$!
    sample $pid "$tmp/rss" &
    rc=0; wait $pid || rc=$?
    t1=$(date +%s.%N)
    wait
    [ $rc -eq 0 ] || { cat "$tmp/ana.err"; echo "analyze exited $rc"; exit 1; }
    report "$tmp/rss" $((n * 62)) "$(echo "$t1 - $t0" | bc)"
    echo "episodes: $(grep -c '"type":"episode"' "$tmp/ana.jsonl") ($n repetitions of the demo's 3)"
    ;;
*) echo "usage: bench/soak.sh monitor|analyze [HOURS]"; exit 2 ;;
esac
