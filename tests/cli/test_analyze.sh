#!/usr/bin/env bash
# crymeter analyze from the outside: bad input gives a clear message naming the file and the
# documented exit code, good files next to bad ones are still analysed, output formats are
# well formed, -j N equals -j 1, outputs are never overwritten without --force.
set -u
CRYMETER=${CRYMETER:?set CRYMETER to the crymeter binary}
SRC=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"

# jsonl_check FILE TYPE=N...: FILE holds exactly N records of each TYPE
jsonl_check() { python3 - "$@" <<'PY'
import json, sys
path, want = sys.argv[1], sys.argv[2:]
recs = [json.loads(l) for l in open(path) if l.strip()]
types = [r["type"] for r in recs]
for w in want:
    t, _, n = w.partition("=")
    if types.count(t) != int(n):
        sys.exit(f"{path}: {types.count(t)} records of type {t}, expected {n}: {types}")
PY
}

# --- inputs ------------------------------------------------------------------------------
: > "$T/empty.wav"
echo "this is not audio, it is text" > "$T/text.wav"
sox -n -r 16000 -c 1 -b 16 "$T/zero.wav" trim 0 0 2>/dev/null || python3 - "$T/zero.wav" <<'PY'
import sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.close()
PY
python3 - "$T/one.wav" <<'PY'
import sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
w.writeframes(b"\x00\x10"); w.close()
PY
sox -n -r 192000 -c 8 -b 16 "$T/eight.wav" synth 2 sine 440 gain -10
sox -n -r 44100 -c 2 -b 16 "$T/trunc.wav" synth 5 sine 440 gain -10
truncate -s -100000 "$T/trunc.wav"
python3 - "$T/nan.wav" <<'PY'
import struct, sys, math
n = 16000 * 3
data = [0.1 * math.sin(2 * math.pi * 440 * i / 16000) for i in range(n)]
data[100] = float("nan"); data[200] = float("inf"); data[300] = float("-inf")
raw = struct.pack("<%df" % n, *data)
fmt = struct.pack("<HHIIHH", 3, 1, 16000, 16000 * 4, 4, 32)
body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(raw)) + raw
open(sys.argv[1], "wb").write(b"RIFF" + struct.pack("<I", len(body)) + body)
PY
cp "$SRC/samples/demo.flac" "$T/demo.flac"

# --- bad input: clear message naming the file, exit 1, error record ------------------------
expect_stderr 1 "missing\.wav.*(no such file|not found)" -- "$CRYMETER" analyze -f jsonl "$T/missing.wav"
jsonl_check "$T/out" error=1 && ok || bad "missing file: no error record"
expect_stderr 1 "empty\.wav.*(empty|no audio|not an audio)" -- "$CRYMETER" analyze -f jsonl "$T/empty.wav"
expect_stderr 1 "text\.wav.*not an audio file" -- "$CRYMETER" analyze -f jsonl "$T/text.wav"
jsonl_check "$T/out" error=1 && ok || bad "text file: no error record"
expect_stderr 1 "zero\.wav.*no audio frames" -- "$CRYMETER" analyze -f jsonl "$T/zero.wav"
expect_stderr 1 "trunc\.wav.*truncated" -- "$CRYMETER" analyze -f jsonl "$T/trunc.wav"
jsonl_check "$T/out" summary=1 && ok || bad "truncated file: no summary"
expect_stderr 1 "nan\.wav.*3 NaN or infinite samples" -- "$CRYMETER" analyze -f jsonl "$T/nan.wav"
python3 -c "
import json,sys
s=[json.loads(l) for l in open('$T/out')][-1]
assert s['type']=='summary' and s['nonfinite_samples']==3 and s['lufs_integrated'] is not None, s
" && ok || bad "NaN file summary"

# --- odd but valid input -------------------------------------------------------------------
expect_stderr 0 "" -- "$CRYMETER" analyze -f jsonl "$T/one.wav"
python3 -c "
import json
s=[json.loads(l) for l in open('$T/out')][-1]
assert s['type']=='summary' and s['frames_read']==1 and s['frames_analyzed']==1, s
assert abs(s['duration_s']-1/16000)<1e-3, s  # JSON has 3 decimals
" && ok || bad "one-sample summary"
expect_stderr 0 "" -- "$CRYMETER" analyze -f jsonl "$T/eight.wav"
python3 -c "
import json
s=[json.loads(l) for l in open('$T/out')][-1]
assert s['type']=='summary' and s['frames_read']==2*192000, s
assert abs(s['sample_peak_dbfs']-(-10))<0.1, s
" && ok || bad "8-channel 192 kHz summary"

# --- one bad file does not stop the others ---------------------------------------------------
expect_stderr 1 "missing\.wav" -- "$CRYMETER" analyze -f jsonl "$T/demo.flac" "$T/missing.wav" "$T/one.wav"
jsonl_check "$T/out" summary=2 error=1 && ok || bad "mixed good/bad files"

# --- usage errors: exit 2 --------------------------------------------------------------------
expect_stderr 2 "no input files" -- "$CRYMETER" analyze
expect_stderr 2 "--format=xml" -- "$CRYMETER" analyze --format xml "$T/demo.flac"
expect_stderr 2 "--merge-gap=abc" -- "$CRYMETER" analyze --merge-gap abc "$T/demo.flac"
expect_stderr 2 "--jobs=0" -- "$CRYMETER" analyze -j 0 "$T/demo.flac"
expect_stderr 2 "unknown option" -- "$CRYMETER" analyze --frobnicate "$T/demo.flac"
expect_stderr 2 "unknown command" -- "$CRYMETER" frobnicate
expect_stderr 0 "" -- "$CRYMETER" analyze --help
grep -q "Exit status" "$T/out" && ok || bad "--help lacks exit status"

# --- outputs -----------------------------------------------------------------------------------
expect_stderr 1 "cannot write" -- "$CRYMETER" analyze -o "$T/no/such/dir/out.jsonl" "$T/demo.flac"
expect_stderr 1 "write failed" -- "$CRYMETER" analyze -f jsonl --force -o /dev/full "$T/demo.flac"
expect_stderr 0 "" -- "$CRYMETER" analyze -f jsonl -o "$T/a.jsonl" "$T/demo.flac"
expect_stderr 2 "exists.*--force" -- "$CRYMETER" analyze -f jsonl -o "$T/a.jsonl" "$T/demo.flac"
expect_stderr 0 "" -- "$CRYMETER" analyze -f jsonl --force -o "$T/a.jsonl" "$T/demo.flac"

# demo: episodes, valid JSON with the documented fields
python3 - "$T/a.jsonl" <<'PY' && ok || bad "demo JSONL schema"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
eps = [r for r in recs if r["type"] == "episode"]
assert len(eps) >= 2, recs
for e in eps:
    for k in ("file", "class", "start_s", "end_s", "duration_s", "confidence", "loudness", "pitch", "excessive"):
        assert k in e, (k, e)
    for k in ("lufs_momentary_max", "dba_max", "peak_dbfs", "spl_db_max", "calibrated"):
        assert k in e["loudness"], (k, e)
    assert e["loudness"]["calibrated"] is False
    assert abs(e["end_s"] - e["start_s"] - e["duration_s"]) < 0.002
    assert set(e["excessive"]["reasons"]) <= {"loud", "long"}
s = recs[-1]
assert s["type"] == "summary" and abs(s["duration_s"] - 62.0) < 1e-6, s
for k in ("episodes", "lufs_integrated", "lra_lu", "true_peak_dbtp", "frames_read", "frames_analyzed"):
    assert k in s, k
assert s["episodes"] == len(eps)
PY

# --spl-offset marks levels calibrated and shifts them by the offset difference
expect_stderr 0 "" -- "$CRYMETER" analyze -f jsonl --spl-offset 90 "$T/demo.flac"
python3 - "$T/a.jsonl" "$T/out" <<'PY' && ok || bad "--spl-offset"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if '"episode"' in l]
b = [json.loads(l) for l in open(sys.argv[2]) if '"episode"' in l]
assert len(a) == len(b) and a
for x, y in zip(a, b):
    assert y["loudness"]["calibrated"] is True
    assert abs(x["loudness"]["spl_db_max"] - 10 - y["loudness"]["spl_db_max"]) < 0.011
PY

# -j 2 gives the same bytes as -j 1, in input order
"$CRYMETER" analyze -f jsonl "$T/demo.flac" "$T/eight.wav" "$T/one.wav" "$T/demo.flac" > "$T/j1" 2>/dev/null
"$CRYMETER" analyze -f jsonl -j 2 "$T/demo.flac" "$T/eight.wav" "$T/one.wav" "$T/demo.flac" > "$T/j2" 2>/dev/null
cmp -s "$T/j1" "$T/j2" && ok || bad "-j 2 output differs from -j 1"

# -j 2 over files that libsndfile refuses for different reasons: each error names its own
# file's reason (libsndfile keeps a failed open's reason in one process-wide variable)
python3 - "$T/badfmt.wav" <<'PY'
import struct, sys
fmt = struct.pack("<HHIIHH", 0x1234, 1, 16000, 32000, 2, 16)
body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 4) + b"\0" * 4
open(sys.argv[1], "wb").write(b"RIFF" + struct.pack("<I", len(body)) + body)
PY
set --
for i in 1 2 3 4 5 6 7 8; do set -- "$@" "$T/text.wav" "$T/badfmt.wav"; done
"$CRYMETER" analyze -f jsonl -j 2 "$@" > "$T/jerr" 2>/dev/null
python3 - "$T/jerr" <<'PY' && ok || bad "-j 2: an error message names another file's reason"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 16, len(recs)
for r in recs:
    assert r["type"] == "error", r
    m = r["message"]
    if r["file"].endswith("text.wav"):
        assert "not an audio file" in m, m
    else:
        assert "not an audio file" not in m and "malformed or unsupported" in m, m
PY

# the other formats
expect_stderr 0 "" -- "$CRYMETER" analyze -f csv "$T/demo.flac"
head -1 "$T/out" | grep -q '^file,id,class,start_s,end_s' && ok || bad "csv header"
[ "$(($(wc -l < "$T/out") - 1))" = "$(grep -c '"episode"' "$T/a.jsonl")" ] && ok || bad "csv rows"
expect_stderr 0 "" -- "$CRYMETER" analyze -f audacity "$T/demo.flac"
awk -F'\t' 'NF!=3 || $1>$2 {exit 1}' "$T/out" && ok || bad "audacity format"
# RTTM through the test's own reader: one SPEAKER line per cry, sob or vocal episode of the
# JSON Lines, same times; a name with spaces and UTF-8 gives a one-field file id.
cp "$T/demo.flac" "$T/my night été.flac"
expect_stderr 0 "" -- "$CRYMETER" analyze -f rttm "$T/demo.flac" "$T/my night été.flac"
python3 - "$T/out" "$T/a.jsonl" <<'PY' && ok || bad "rttm: $(cat "$T/out")"
import json, sys
rows = [l.split() for l in open(sys.argv[1], encoding="utf-8")]
assert all(len(r) == 10 and r[0] == "SPEAKER" and r[2] == "1" and r[5:7] == ["<NA>", "<NA>"]
           and r[8:] == ["<NA>", "<NA>"] for r in rows), rows
ep = [json.loads(l) for l in open(sys.argv[2]) if '"episode"' in l]
ep = [e for e in ep if e["class"] != "background"]
for fid in ("demo", "my_night_été"):
    mine = [r for r in rows if r[1] == fid]
    assert len(mine) == len(ep) > 0, (fid, mine)
    for r, e in zip(mine, ep):
        on, dur = float(r[3]), float(r[4])
        assert r[7] == e["class"] and abs(on - e["start_s"]) < 6e-4, (r, e)
        assert dur > 0 and abs(on + dur - e["end_s"]) < 2e-3, (r, e)
PY
# TextGrid, read by Debian's Praat: its tiers and labelled intervals are the episodes of the
# JSON Lines (cry, sob, vocal, excessive), for a name with spaces and UTF-8 and for 100
# demos back to back (400 episodes); two files at once are refused.
command -v praat > /dev/null || bad "praat is not installed (make check installs it)"
cat > "$T/tg.praat" <<'PRAAT'
form Read
    sentence path
endform
Read from file: path$
n = Get number of tiers
for i to n
    name$ = Get tier name: i
    k = Count intervals where: i, "is not equal to", ""
    appendInfoLine: name$, " ", k
endfor
total = Get total duration
appendInfoLine: "duration ", fixed$ (total, 3)
PRAAT
sox "$T/demo.flac" "$T/long.flac" repeat 99
"$CRYMETER" analyze -f jsonl "$T/long.flac" > "$T/long.jsonl" 2> /dev/null
for f in "my night été" long; do
    expect_stderr 0 "" -- "$CRYMETER" analyze -f textgrid -o "$T/$f.TextGrid" "$T/$f.flac"
    j="$T/a.jsonl"; [ "$f" = long ] && j="$T/long.jsonl"
    praat --run "$T/tg.praat" "$T/$f.TextGrid" > "$T/tg.out" 2>&1
    python3 - "$T/tg.out" "$j" <<'PY' && ok || bad "textgrid $f: $(cat "$T/tg.out")"
import json, sys
got = dict(l.split() for l in open(sys.argv[1]) if l.strip())
recs = [json.loads(l) for l in open(sys.argv[2])]
ep = [r for r in recs if r["type"] == "episode"]
want = {c: str(sum(e["class"] == c for e in ep)) for c in ("cry", "sob", "vocal")}
want["excessive"] = str(sum(bool(e["excessive"]["flag"]) for e in ep))
want["duration"] = "%.3f" % next(r["duration_s"] for r in recs if r["type"] == "summary")
assert got == want and int(want["cry"]) > 0, (got, want)
PY
done
expect_stderr 2 "one document per recording" -- "$CRYMETER" analyze -f textgrid "$T/demo.flac" "$T/demo.flac"
# EAF (ELAN 3.0) for the same two recordings: well-formed, time slots in ascending order,
# every annotation inside the recording, the tiers' annotations the JSON Lines' episodes, the
# media file named (percent-encoded absolute and relative URLs).
for f in "my night été" long; do
    expect_stderr 0 "" -- "$CRYMETER" analyze -f eaf -o "$T/$f.eaf" "$T/$f.flac"
    j="$T/a.jsonl"; [ "$f" = long ] && j="$T/long.jsonl"
    python3 - "$T/$f.eaf" "$j" "$T/$f.flac" <<'PY' && ok || bad "eaf $f: $(head -c 3000 "$T/$f.eaf")"
import json, sys, urllib.parse, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "ANNOTATION_DOCUMENT" and root.get("FORMAT") == "3.0", root.attrib
md = root.find("HEADER/MEDIA_DESCRIPTOR")
assert urllib.parse.unquote(md.get("MEDIA_URL")) == "file://" + sys.argv[3], md.attrib
assert urllib.parse.unquote(md.get("RELATIVE_MEDIA_URL")) == "./" + sys.argv[3].split("/")[-1]
slots = [(s.get("TIME_SLOT_ID"), int(s.get("TIME_VALUE"))) for s in root.iter("TIME_SLOT")]
assert [v for _, v in slots] == sorted(v for _, v in slots), "slots not ordered"
ms = dict(slots)
recs = [json.loads(l) for l in open(sys.argv[2])]
ep = [r for r in recs if r["type"] == "episode"]
dur = next(r["duration_s"] for r in recs if r["type"] == "summary") * 1000
got, want = {}, {c: sum(e["class"] == c for e in ep) for c in ("cry", "sob", "vocal")}
want["excessive"] = sum(bool(e["excessive"]["flag"]) for e in ep)
for tier in root.findall("TIER"):
    anns = list(tier.iter("ALIGNABLE_ANNOTATION"))
    got[tier.get("TIER_ID")] = len(anns)
    end = 0
    for a in anns:
        x, y = ms[a.get("TIME_SLOT_REF1")], ms[a.get("TIME_SLOT_REF2")]
        assert end <= x < y <= dur + 1, (tier.get("TIER_ID"), x, y, end, dur)
        end = y
assert got == want and want["cry"] > 0, (got, want)
PY
done
expect_stderr 2 "-f eaf writes one document" -- "$CRYMETER" analyze -f eaf "$T/demo.flac" "$T/demo.flac"
expect_stderr 0 "" -- "$CRYMETER" analyze -f table "$T/demo.flac"
grep -q "cry" "$T/out" && ok || bad "table has no cry row"

# evaluate on a recording with labels beside it: the bundled demo's two cries are found
cp "$SRC/samples/demo.txt" "$T/demo.txt"
expect_stderr 0 "" -- "$CRYMETER" evaluate "$T/demo.flac"
grep -Eq "event-based.*TP 2, FP [01], FN 0" "$T/out" && ok || bad "evaluate demo: $(cat "$T/out")"
printf '1.0\t2.0\tcry\n2.5\t3.0\twhistle\n' > "$T/eight.txt"
expect_stderr 1 "eight\.txt: line 2: unknown label 'whistle'" -- "$CRYMETER" evaluate "$T/eight.wav"
expect_stderr 1 "one\.wav: needs Audacity labels beside it in .*one\.txt" -- "$CRYMETER" evaluate "$T/one.wav"

finish
