#!/usr/bin/env bash
# crymeter calibrate --tone: the SPL offset from a recorded reference tone, and the
# recordings it must refuse (clipped, too short, unsteady, silent, missing).
set -u
CRYMETER=${CRYMETER:?}
. "$(dirname "$0")/lib.sh"
# A 1 kHz tone of peak amplitude 0.1: RMS -23.01 dBFS, A-weighting 0 dB at 1 kHz, so a 94 dB
# calibrator gives an offset of 94 + 23.01 = 117.01 dB (at 48 kHz stereo and 16 kHz mono).
sox -n -r 48000 -c 2 -b 24 "$T/tone48.wav" synth 6 sine 1000 vol 0.1
sox -n -r 16000 -c 1 -b 16 "$T/tone16.flac" synth 6 sine 1000 vol 0.1
for f in tone48.wav tone16.flac; do
    expect 0 "spl offset" -- "$CRYMETER" calibrate --tone "$T/$f"
    off=$(sed -n 's/^spl offset: \([0-9.-]*\) dB$/\1/p' "$T/out")
    # IEC 61672 class 1 allows +-0.7 dB at 1 kHz; the filter is within 0.02 dB there.
    awk -v o="$off" 'BEGIN { exit !(o > 116.96 && o < 117.06) }' && ok || bad "$f: offset $off, expected 117.01"
done
expect 0 "spl offset: 137\.0" -- "$CRYMETER" calibrate --tone "$T/tone16.flac" --tone-spl 114
sox -n -r 16000 -c 1 -b 16 "$T/clip.wav" synth 6 sine 1000 vol 1.5 2>/dev/null
expect 1 "clipped" -- "$CRYMETER" calibrate --tone "$T/clip.wav"
sox -n -r 16000 -c 1 -b 16 "$T/short.wav" synth 1 sine 1000 vol 0.1
expect 1 "at least 2 s" -- "$CRYMETER" calibrate --tone "$T/short.wav"
sox -n -r 16000 -c 1 -b 16 "$T/wobbly.wav" synth 6 sine 1000 vol 0.1 tremolo 1 60
expect 1 "varies by" -- "$CRYMETER" calibrate --tone "$T/wobbly.wav"
sox -n -r 16000 -c 1 -b 16 "$T/silent.wav" trim 0 6
expect 1 "silent" -- "$CRYMETER" calibrate --tone "$T/silent.wav"
expect 1 "missing\.wav.*no such file" -- "$CRYMETER" calibrate --tone "$T/missing.wav"
expect 2 "--tone-spl=abc" -- "$CRYMETER" calibrate --tone "$T/tone16.flac" --tone-spl abc
expect 0 "calibrator" -- "$CRYMETER" calibrate --tone --help
finish
