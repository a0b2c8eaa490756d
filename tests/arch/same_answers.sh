#!/usr/bin/env bash
# Same answers on both architectures (issue 23, part 3): the cross-built tool (CRYMETER, run
# under the emulator) against the host's (CM_HOST_CRYMETER, x86-64) on fixed inputs.
#  - analyze's JSON Lines: the demo; the demo at 8 kHz (no resampling) and at 44.1 kHz
#    stereo; every clip of samples/clips; the demo with models/framenet.json (the frame
#    network, AVX2 clone on x86-64, plain C on arm64). Every field must be the same, and
#    every number the same to its printed precision but for one unit of its last digit: the
#    numbers underneath differ in their low digits (Debian's kissfft and libm contract
#    a*b+c into fused multiply-adds on arm64, where FMA is in the base instruction set;
#    crymeter's own code is ISO C and never contracts), so a number lying on a rounding
#    boundary can print either way (an inhalation's pitch 986.1 Hz on x86-64, 986.0 on
#    arm64, once, in a sox-dithered 44.1 kHz input). Inputs are made with sox -R, so a run
#    compares what the previous run did.
#  - calibrate on the bundled clips: the trained models may differ in their low digits too,
#    so every number must agree to 1e-3 relative and every other field exactly, and each
#    model, run by either tool, must give the demo the same records. calibrate's feature
#    workers resample clips at once: on arm64 that once gave a clip wrong samples (libsoxr's
#    shared FFT cache, src/dsp/resample.c), which this comparison caught.
# Registered only in a cross build configured with CM_HOST_CRYMETER (make check-arm64).
set -u
CRYMETER=${CRYMETER:?} HOST=${CM_HOST_CRYMETER:?} SRC=${CM_SOURCE_DIR:?}
. "$SRC/tests/cli/lib.sh"
demo=$SRC/samples/demo.flac
sox -R "$demo" -r 8000 "$T/demo8k.wav"
sox -R "$demo" -r 44100 -c 2 "$T/demo44s.wav"
# records HOST TARGET: the same records but for one unit in the last digit of a decimal number
# (integers exactly; prints each such number; exit 1 with the first real difference)
records() {
    python3 - "$1" "$2" <<'PY'
import re, sys
num = re.compile(r'-?\d+(?:\.(\d+))?(?:[eE][-+]?\d+)?')
a, b = (open(p).read().splitlines() for p in sys.argv[1:3])
if len(a) != len(b):
    sys.exit("%d records on the host, %d on the target" % (len(a), len(b)))
for n, (x, y) in enumerate(zip(a, b), 1):
    tx, ty = num.split(x), num.split(y)   # text between numbers, and each number's decimals
    mx, my = list(num.finditer(x)), list(num.finditer(y))
    if len(mx) != len(my) or tx[::2] != ty[::2]:
        sys.exit("record %d: %s\n   vs %s" % (n, x[:300], y[:300]))
    for u, v in zip(mx, my):
        if u.group() == v.group():
            continue
        places = len(u.group(1) or "")
        if u.group(1) is None or v.group(1) is None or "e" in u.group().lower() or \
                abs(float(u.group()) - float(v.group())) > 1.01 * 10 ** -places:
            sys.exit("record %d: %s on the host, %s on the target, at ...%s" %
                     (n, u.group(), v.group(), x[max(0, u.start() - 60):u.start()]))
        print("record %d: last digit %s on the host, %s on the target" % (n, u.group(), v.group()))
PY
}
same() { # NAME ARGS...: both tools' exit status and records must be the same (records above)
    local name=$1; shift
    "$HOST" "$@" > "$T/$name.host" 2> /dev/null; local rh=$?
    "$CRYMETER" "$@" > "$T/$name.target" 2> /dev/null; local rt=$?
    [ "$rh" = "$rt" ] || { bad "$name: exit $rh on the host, $rt on the target"; return; }
    [ -s "$T/$name.host" ] || { bad "$name: no output"; return; }
    local why
    why=$(records "$T/$name.host" "$T/$name.target" 2>&1) && ok || { bad "$name: $why"; return; }
    [ -z "$why" ] || echo "$name: $why"
}
same demo analyze -f jsonl "$demo"
same demo8k analyze -f jsonl "$T/demo8k.wav"
same demo44s analyze -f jsonl "$T/demo44s.wav"
same framenet analyze -f jsonl --model "$SRC/models/framenet.json" "$demo"
for c in "$SRC"/samples/clips/*; do same "clip_$(basename "$c")" analyze -f jsonl "$c"; done
grep -q '^{"type":"episode","id":1,"file":"[^"]*","class":"cry"' "$T/demo.host" && ok || bad "the demo's first episode is not crying"

# calibrate on the bundled clips plus three of the 13 a 2-fold split needs.
mkdir -p "$T/data/clips"
cp "$SRC"/samples/clips/* "$T/data/clips/"
sox -R -n -r 16000 -c 1 "$T/data/clips/pink.wav" synth 3 pinknoise vol 0.3
sox -R -n -r 16000 -c 1 "$T/data/clips/brown.wav" synth 4 brownnoise vol 0.2
tr '\t' ',' < "$SRC/samples/labels.tsv" > "$T/m.csv"
printf 'clips/pink.wav,noise,synth:pink\nclips/brown.wav,noise,synth:brown\n' >> "$T/m.csv"
printf 'clips/speech_3_jackson_0.flac,speech,copy:jackson\n' >> "$T/m.csv"
for side in host target; do
    tool=$HOST; [ $side = target ] && tool=$CRYMETER
    expect 0 "" -- "$tool" calibrate --manifest "$T/m.csv" --data-root "$T/data" --folds 2 \
        --epochs 20 --tree-rounds 20 -o "$T/$side.json"
done
python3 - "$T/host.json" "$T/target.json" <<'PY' && ok || bad "calibrate: the models differ beyond 1e-3"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
worst, bad = 0.0, []
def walk(x, y, path):
    global worst
    if path in (".provenance.date", ".provenance.training_seconds"):
        return
    if isinstance(x, dict) and isinstance(y, dict) and x.keys() == y.keys():
        for k in x: walk(x[k], y[k], path + "." + k)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for u, v in zip(x, y): walk(u, v, path + "[]")
    elif isinstance(x, float) or isinstance(y, float):
        if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
            bad.append(path); return
        d = abs(x - y) / max(1.0, abs(x), abs(y)); worst = max(worst, d)
        if d > 1e-3: bad.append("%s %r %r" % (path, x, y))
    elif x != y:
        bad.append("%s %r %r" % (path, x, y))
walk(a, b, "")
print("calibrate: largest relative difference between the models %.2g" % worst)
if bad: print("\n".join(bad[:10])); sys.exit(1)
PY
same model_host analyze -f jsonl --model "$T/host.json" "$demo"
same model_target analyze -f jsonl --model "$T/target.json" "$demo"
why=$(records "$T/model_host.host" "$T/model_target.host" 2>&1) && ok ||
    bad "the host's and the target's models give the demo different records: $why"
finish
