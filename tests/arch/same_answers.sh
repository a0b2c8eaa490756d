#!/usr/bin/env bash
# Same answers on both architectures (issue 23, part 3): the cross-built tool (CRYMETER, run
# under the emulator) against the host's (CM_HOST_CRYMETER, x86-64) on fixed inputs.
#  - analyze's JSON Lines, byte for byte: the demo; the demo at 8 kHz (no resampling) and at
#    44.1 kHz stereo; every clip of samples/clips; the demo with models/framenet.json (the
#    frame network, AVX2 clone on x86-64, plain C on arm64).
#    The features underneath differ in their low digits (Debian's kissfft and libm contract
#    a*b+c into fused multiply-adds on arm64, where FMA is in the base instruction set;
#    crymeter's own code is ISO C and never contracts); the printed records do not.
# Registered only in a cross build configured with CM_HOST_CRYMETER (make check-arm64).
set -u
CRYMETER=${CRYMETER:?} HOST=${CM_HOST_CRYMETER:?} SRC=${CM_SOURCE_DIR:?}
. "$SRC/tests/cli/lib.sh"
demo=$SRC/samples/demo.flac
sox "$demo" -r 8000 "$T/demo8k.wav"
sox "$demo" -r 44100 -c 2 "$T/demo44s.wav"
same() { # NAME ARGS...: both tools' stdout and exit status must be identical
    local name=$1; shift
    "$HOST" "$@" > "$T/$name.host" 2> /dev/null; local rh=$?
    "$CRYMETER" "$@" > "$T/$name.target" 2> /dev/null; local rt=$?
    [ "$rh" = "$rt" ] || { bad "$name: exit $rh on the host, $rt on the target"; return; }
    [ -s "$T/$name.host" ] || { bad "$name: no output"; return; }
    cmp -s "$T/$name.host" "$T/$name.target" && ok ||
        bad "$name: records differ: $(diff "$T/$name.host" "$T/$name.target" | head -4)"
}
same demo analyze -f jsonl "$demo"
same demo8k analyze -f jsonl "$T/demo8k.wav"
same demo44s analyze -f jsonl "$T/demo44s.wav"
same framenet analyze -f jsonl --model "$SRC/models/framenet.json" "$demo"
for c in "$SRC"/samples/clips/*; do same "clip_$(basename "$c")" analyze -f jsonl "$c"; done
grep -q '^{"type":"episode","id":1,"file":"[^"]*","class":"cry"' "$T/demo.host" && ok || bad "the demo's first episode is not crying"

finish
