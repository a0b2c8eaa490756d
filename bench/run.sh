#!/usr/bin/env bash
# Benchmark: crymeter analyze against ffmpeg's ebur128 filter on the same files, in the same
# run, as paired ratios (wall-clock here varies by +-30 % between runs, so each pair runs back
# to back and the median ratio is reported), crymeter's peak memory, and instruction counts
# from callgrind on a 10-minute excerpt (these repeat exactly).
#
#   bash bench/run.sh            # 1-hour files, 3 pairs each
#   RUNS=5 MINUTES=60 bash bench/run.sh
#
# Needs: a Release build in build/ (make build), ffmpeg, sox, valgrind, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
MINUTES=${MINUTES:-60}
CG=${CALLGRIND:-1}
BIN=${CRYMETER:-./build/crymeter}
DATA=bench/data
mkdir -p "$DATA"
need=""
for t in ffmpeg sox valgrind; do command -v $t >/dev/null || need="$need $t"; done
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
  echo "installing:$need" >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
fi
[ -x "$BIN" ] || { echo "no $BIN: run 'make build' first" >&2; exit 1; }

# Test material: the bundled demo (crying, speech, a dog, noise) repeated to the length.
reps=$(( (MINUTES * 60 + 61) / 62 - 1 ))
mk() { # mk OUT RATE CHANNELS
  [ -s "$1" ] && return
  sox samples/demo.flac -r "$2" -c "$3" -b 16 "$1" repeat "$reps" trim 0 $((MINUTES * 60))
}
mk "$DATA/mono16k_${MINUTES}m.wav" 16000 1
mk "$DATA/stereo44k_${MINUTES}m.wav" 44100 2

tm() { # tm LOGFILE cmd...: prints "wall_s maxrss_kib cpu_s" (cpu = user + system)
  /usr/bin/time -f '%e %M %U %S' -o "$1" "${@:2}" >/dev/null 2>&1 || true
  awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$1"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# crymeter runs libebur128 and its front end on threads of their own (two cores), so its
# wall time is also given as CPU time (user + system); ffmpeg's ebur128 filter runs on one
# thread (its CPU time ~ wall time).
printf '%-22s %10s %10s %8s %10s %10s %9s %12s\n' file crymeter_s ffmpeg_s ratio cm_cpu_s ff_cpu_s cpu_ratio crymeter_MiB
for f in "$DATA/mono16k_${MINUTES}m.wav" "$DATA/stereo44k_${MINUTES}m.wav"; do
  : > /tmp/cm_ratios; : > /tmp/cm_c; : > /tmp/cm_f; : > /tmp/cm_m
  : > /tmp/cm_cc; : > /tmp/cm_fc; : > /tmp/cm_cratios
  for i in $(seq "$RUNS"); do
    read -r c mem cc < <(tm /tmp/cm_t1 "$BIN" analyze -f jsonl --no-progress "$f")
    read -r g _ gc < <(tm /tmp/cm_t2 ffmpeg -nostats -hide_banner -i "$f" -af ebur128 -f null -)
    echo "$c" >> /tmp/cm_c; echo "$g" >> /tmp/cm_f; echo "$mem" >> /tmp/cm_m
    echo "$cc" >> /tmp/cm_cc; echo "$gc" >> /tmp/cm_fc
    awk -v c="$c" -v g="$g" 'BEGIN {printf "%.3f\n", c / g}' >> /tmp/cm_ratios
    awk -v c="$cc" -v g="$gc" 'BEGIN {printf "%.3f\n", c / g}' >> /tmp/cm_cratios
  done
  printf '%-22s %10s %10s %8s %10s %10s %9s %12s\n' "$(basename "$f")" "$(median < /tmp/cm_c)" \
    "$(median < /tmp/cm_f)" "$(median < /tmp/cm_ratios)" "$(median < /tmp/cm_cc)" \
    "$(median < /tmp/cm_fc)" "$(median < /tmp/cm_cratios)" \
    "$(sort -g /tmp/cm_m | tail -1 | awk '{printf "%.1f", $1 / 1024}')"
done

if [ "$CG" = 1 ]; then
  ex="$DATA/mono16k_10m.wav"
  [ -s "$ex" ] || sox samples/demo.flac -r 16000 -c 1 -b 16 "$ex" repeat 9 trim 0 600
  cg() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
         awk '/Collected/ {print $4}'; }
  ci=$(cg "$BIN" analyze -f jsonl --no-progress "$ex")
  fi=$(cg ffmpeg -nostats -hide_banner -i "$ex" -af ebur128 -f null -)
  echo
  echo "callgrind, 10 min 16 kHz mono: crymeter $ci instructions, ffmpeg ebur128 $fi," \
       "ratio $(awk -v a="$ci" -v b="$fi" 'BEGIN {printf "%.3f", a / b}')"
fi
