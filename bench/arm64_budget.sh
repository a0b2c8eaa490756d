#!/usr/bin/env bash
# The budget on an ARM core (issue 23, part 5), counted rather than guessed: the arm64 build
# runs under Debian's qemu-user with bench/qemu_insn.c, a plugin that counts the guest (arm64)
# instructions executed on every thread. Each case runs on 62 s and on 620 s of the demo
# (cry-dense: the worst case) and reports the difference per audio second, so that start-up
# (reading the compiled-in model) is not spread over the audio:
#   analyze, 16 kHz mono and 44.1 kHz stereo;
#   monitor, 16 kHz mono and 48 kHz mono (a USB microphone's usual rate), from the scripted
#   test device (include/crymeter/capture_script.h), loudness meter and detector included.
# Instructions become a share of a Raspberry Pi 4 core (Cortex-A72 at 1.5 GHz) at one
# instruction per cycle. The A72 issues up to 3 per cycle; 1 is a cautious figure for
# scalar DSP code with its loads, and the last column halves it again (IPC 0.5) as a bound
# for cache misses the count cannot see. The night is 8 h of 16 kHz mono on one core, and
# on the busiest of the tool's threads (the wall time with a core for each thread).
# The tool sizes its threads by the processors online (the detector gets a thread of its own
# from four): qemu-user would show it the host's, so it is shown a Pi 4's CPUS (default 4)
# through a sysfs file under qemu's -L prefix.
# Needs: make cross-arm64 (build-arm64/), qemu-user, gcc, sox, python3. About 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CRYMETER_ARM64:-build-arm64/crymeter}
QEMU=${QEMU:-qemu-aarch64}
HZ=${A72_HZ:-1500000000}
[ -x "$BIN" ] || { echo "no $BIN: run make cross-arm64 first" >&2; exit 1; }
command -v "$QEMU" >/dev/null || { echo "no $QEMU (Debian's qemu-user)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -shared -fPIC -O2 -Wall -Wextra -o "$tmp/insn.so" bench/qemu_insn.c
CPUS=${CPUS:-4}
mkdir -p "$tmp/root/sys/devices/system/cpu"
echo "0-$((CPUS - 1))" > "$tmp/root/sys/devices/system/cpu/online"

# count NAME ARGS...: run the tool under the counter; $tmp/NAME.count holds the counts.
count() {
    local name=$1; shift
    "$QEMU" -L "$tmp/root" -plugin "$tmp/insn.so,out=$tmp/$name.count" "$BIN" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" ||
        { cat "$tmp/$name.err" >&2; echo "$name: the tool failed" >&2; exit 1; }
}
for rate_ch in 16000:1 44100:2 48000:1; do
    r=${rate_ch%:*} c=${rate_ch#*:}
    sox samples/demo.flac -r "$r" -c "$c" -b 16 "$tmp/s_$r.wav"
    sox samples/demo.flac -r "$r" -c "$c" -b 16 "$tmp/l_$r.wav" repeat 9
done
S=$(soxi -D "$tmp/s_16000.wav") L=$(soxi -D "$tmp/l_16000.wav")
for r in 16000 44100; do
    count "analyze_s_$r" analyze -f jsonl --no-progress "$tmp/s_$r.wav"
    count "analyze_l_$r" analyze -f jsonl --no-progress "$tmp/l_$r.wav"
done
for r in 16000 48000; do
    for len in s l; do
        d=$(soxi -D "$tmp/${len}_$r.wav")
        printf 'name budget\naudio %s\npause\n' "$tmp/${len}_$r.wav" > "$tmp/script_${len}_$r"
        CRYMETER_TEST_CAPTURE="$tmp/script_${len}_$r" count "monitor_${len}_$r" monitor -f jsonl \
            --rate "$r" --duration "${d%.*}"
    done
done
CPUS=$CPUS python3 - "$tmp" "$S" "$L" "$HZ" "$("$QEMU" --version | head -1)" <<'PY'
import os, sys
tmp, S, L, HZ, qv = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
def read(name):
    lines = open(os.path.join(tmp, name + ".count")).read().split("\n")
    threads = sorted((int(l.split()[2]) for l in lines[1:] if l.startswith("vcpu")), reverse=True)
    return int(lines[0]), threads
print("arm64 instructions per second of audio (%s; the difference of %.0f s and %.0f s runs; "
      "%s processors online)" % (qv, L, S, os.environ.get("CPUS", "4")))
print("share of one Cortex-A72 core at %.1f GHz: at 1 instruction per cycle (at 0.5)" % (HZ / 1e9))
print("%-26s %12s %12s %16s" % ("case", "insn/audio s", "busiest thr.", "A72 core share"))
rows = {}
for case in ("analyze 16000", "analyze 44100", "monitor 16000", "monitor 48000"):
    cmd, r = case.split()
    (ts, th_s), (tl, th_l) = read("%s_s_%s" % (cmd, r)), read("%s_l_%s" % (cmd, r))
    per_s = (tl - ts) / (L - S)
    busiest = (th_l[0] - th_s[0]) / (L - S)
    rows[case] = (per_s, busiest)
    print("%-26s %12.3g %12.3g %8.2f %% (%.2f %%)" % (case.replace(" ", " ", 1) + " Hz", per_s, busiest,
          100 * per_s / HZ, 200 * per_s / HZ))
per_s, busiest = rows["analyze 16000"]
night = 8 * 3600
print("analyze, an 8-hour night at 16 kHz mono: %.0f s on one A72 core; %.0f s on its busiest thread "
      "(a core per thread)" % (per_s * night / HZ, busiest * night / HZ))
PY
