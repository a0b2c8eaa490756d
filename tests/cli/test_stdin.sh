#!/usr/bin/env bash
# crymeter analyze on inputs that can be read only once: a FIFO and standard input (-) give
# exactly the frames and the episodes of the same audio read from disk; a WAV stream without
# a length (ffmpeg -f wav -) is read to its end and not called truncated; a stream that ends
# inside a frame is reported; AAC (.m4a) decoded by ffmpeg into a pipe is analysed; and on a
# terminal the progress line never shares a line with a record or a message.
set -u
CRYMETER=${CRYMETER:?set CRYMETER to the crymeter binary}
SRC=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
for tool in sox ffmpeg script python3 timeout; do
    command -v "$tool" > /dev/null || { echo "FAIL: $tool is needed (make deps installs it)"; exit 1; }
done

# same_as REF OUT [NAME]: OUT has REF's episodes and summary (all fields but "file", which
# is NAME in every record of OUT when given) and one summary
same_as() { python3 - "$@" <<'PY'
import json, sys
ref, out = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else None
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
a, b = load(ref), load(out)
if name is not None:
    bad = [r.get("file") for r in b if r.get("file") != name]
    assert not bad, f"file fields {bad[:3]}, expected {name!r}"
strip = lambda rs: [{k: v for k, v in r.items() if k != "file"} for r in rs]
assert [r["type"] for r in b].count("summary") == 1, [r["type"] for r in b]
sa, sb = a[-1], b[-1]
assert sa["frames_read"] == sb["frames_read"], f"frames_read {sb['frames_read']}, from disk {sa['frames_read']}"
assert strip(a) == strip(b), "records differ from the file read from disk"
PY
}

ffmpeg -nostdin -loglevel error -i "$SRC/samples/demo.flac" -c:a pcm_s16le "$T/demo.wav"
"$CRYMETER" analyze -f jsonl "$T/demo.wav" > "$T/ref" 2> "$T/err" || { bad "demo.wav from disk: $(cat "$T/err")"; }
python3 -c "
import json,sys
r=[json.loads(l) for l in open('$T/ref')]
assert r[-1]['frames_read']==992000 and sum(x['type']=='episode' for x in r)>=2, r[-1]
" && ok || bad "demo.wav from disk: not 992000 frames and 2+ episodes"

# FIFO (the writer is bounded so a reader that never opens cannot hang the test)
mkfifo "$T/f.wav"
timeout 600 cat "$T/demo.wav" > "$T/f.wav" &
expect_stderr 0 "" -- "$CRYMETER" analyze -f jsonl "$T/f.wav"
wait
same_as "$T/ref" "$T/out" "$T/f.wav" && ok || bad "FIFO: not the file's frames and episodes"

# standard input: a pipe, named - or --name; and a regular file redirected
cat "$T/demo.wav" | "$CRYMETER" analyze -f jsonl - > "$T/out" 2> "$T/err" && ok || bad "cat | analyze -: $(cat "$T/err")"
same_as "$T/ref" "$T/out" "-" && ok || bad "stdin pipe: not the file's frames and episodes"
cat "$T/demo.wav" | "$CRYMETER" analyze -f jsonl --name night.wav - > "$T/out" 2> "$T/err" && ok || bad "--name: $(cat "$T/err")"
same_as "$T/ref" "$T/out" "night.wav" && ok || bad "--name: not the file's records under the name"
"$CRYMETER" analyze -f jsonl - < "$T/demo.wav" > "$T/out" 2> "$T/err" && ok || bad "analyze - < file: $(cat "$T/err")"
same_as "$T/ref" "$T/out" "-" && ok || bad "stdin redirected from a file"

# a WAV stream that announces no length (ffmpeg writes 0xFFFFFFFF sizes to a pipe)
ffmpeg -nostdin -loglevel error -i "$T/demo.wav" -f wav - | "$CRYMETER" analyze -f jsonl - > "$T/out" 2> "$T/err"
[ $? = 0 ] && ! grep -qi truncated "$T/err" && ok || bad "ffmpeg -f wav - stream: $(cat "$T/err")"
same_as "$T/ref" "$T/out" && ok || bad "ffmpeg -f wav - stream: not the file's frames and episodes"
# ... ending inside a frame: reported, exit 1, the whole frames before it analysed
(ffmpeg -nostdin -loglevel error -i "$T/demo.wav" -f wav -; printf 'x') | "$CRYMETER" analyze -f jsonl - > "$T/out" 2> "$T/err"
[ $? = 1 ] && grep -q "^crymeter: -: the audio ends inside a frame (1 byte" "$T/err" && ok || bad "stream ending inside a frame: $(cat "$T/err")"
same_as "$T/ref" "$T/out" && ok || bad "stream ending inside a frame: whole frames not all analysed"
# ... a stream announcing a length and ending early is truncated
# (whole frames in the first 100001 bytes: after the data chunk's header, 2 bytes each)
whole=$(python3 -c "d=open('$T/demo.wav','rb').read(); print((100001 - d.index(b'data') - 8) // 2)")
head -c 100001 "$T/demo.wav" | "$CRYMETER" analyze -f jsonl - > "$T/out" 2> "$T/err"
[ $? = 1 ] && grep -q "truncated: the header announced 992000 frames but the file holds $whole;" "$T/err" \
    && grep -q "ends inside a frame (1 byte" "$T/err" && ok || bad "short stream ($whole frames): $(cat "$T/err")"

# AAC, as phones write it: libsndfile cannot read it; ffmpeg decodes it into the pipe
ffmpeg -nostdin -loglevel error -i "$SRC/samples/demo.flac" -c:a aac -b:a 96k "$T/night.m4a"
expect_stderr 1 "night\.m4a.*not an audio file" -- "$CRYMETER" analyze -f jsonl "$T/night.m4a"
ffmpeg -nostdin -loglevel error -i "$T/night.m4a" -f wav - | "$CRYMETER" analyze -f jsonl --name night.m4a - > "$T/out" 2> "$T/err"
[ $? = 0 ] && ok || bad "ffmpeg -i night.m4a -f wav - | analyze -: $(cat "$T/err")"
cp "$T/out" "$T/m4a.jsonl"
python3 - "$T/m4a.jsonl" <<'PY' && ok || bad "m4a through ffmpeg: episodes"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
eps = [x for x in r if x["type"] == "episode"]
cries = [e for e in eps if e["class"] == "cry"]
# the demo's cries at 4-19 s and 48-58 s (samples/README.md): both found, nothing else called
# crying (the first bout is two recordings with a pause: a model may report it as two)
assert 2 <= len(cries) <= 3 and cries[0]["start_s"] < 6 and cries[-1]["start_s"] > 46, eps
assert all(3 <= e["start_s"] and e["end_s"] <= 20.5 or 46 <= e["start_s"] for e in cries), eps
assert abs(r[-1]["duration_s"] - 62.0) < 0.1 and r[-1]["file"] == "night.m4a", r[-1]
PY
ffmpeg -nostdin -loglevel error -i "$T/night.m4a" -c:a pcm_s16le "$T/m4a.wav"
"$CRYMETER" analyze -f jsonl "$T/m4a.wav" > "$T/m4a_ref" 2> /dev/null
same_as "$T/m4a_ref" "$T/m4a.jsonl" && ok || bad "m4a piped: not the records of its decoded file"

# a FIFO, standard input and a disk file at once, -j 2: each as alone
mkfifo "$T/g.wav"
timeout 600 cat "$T/demo.wav" > "$T/g.wav" &
cat "$T/demo.wav" | "$CRYMETER" analyze -f jsonl -j 2 "$T/g.wav" - "$T/demo.wav" > "$T/out" 2> "$T/err" && ok || bad "-j 2 FIFO, -, file: $(cat "$T/err")"
wait
python3 - "$T/ref" "$T/out" <<'PY' && ok || bad "-j 2 FIFO, -, file: a file's records differ from it alone"
import json, sys
strip = lambda r: {k: v for k, v in r.items() if k != "file"}
ref = [strip(json.loads(l)) for l in open(sys.argv[1])]
out = [json.loads(l) for l in open(sys.argv[2])]
assert [r["file"] for r in out if r["type"] == "summary"][1] == "-"
assert [strip(r) for r in out] == ref * 3
PY

# usage: - once only, --name only with -, not from a terminal; FLAC cannot come through a pipe
expect_stderr 2 "given 2 times" -- "$CRYMETER" analyze - - < "$T/demo.wav"
expect_stderr 2 "--name x.*- is not among the inputs" -- "$CRYMETER" analyze --name x "$T/demo.wav"
script -qc "$CRYMETER analyze -" /dev/null < /dev/null > "$T/tty" 2>&1
grep -q "standard input, which is a terminal" "$T/tty" && ok || bad "- on a terminal: $(cat "$T/tty")"
cat "$SRC/samples/demo.flac" | "$CRYMETER" analyze -f jsonl - > "$T/out" 2> "$T/err"
[ $? = 1 ] && grep -q "FLAC cannot be read from a pipe or FIFO.*ffmpeg" "$T/err" && ok || bad "FLAC from a pipe: $(cat "$T/err")"
: | "$CRYMETER" analyze -f jsonl - > "$T/out" 2> "$T/err"
[ $? = 1 ] && grep -q -- "-: empty input" "$T/err" && ok || bad "empty pipe: $(cat "$T/err")"

# the progress line on a terminal: drawn after every block (test seam), never on the line
# of a row or a message. torn.py renders the typescript as a terminal shows it (\r returns
# to column 0) and counts lines holding both.
cat > "$T/torn.py" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
torn = bars = rows = 0
for raw in data.split("\n"):
    line, col = [], 0
    for ch in raw:
        if ch == "\r":
            col = 0
            continue
        if col < len(line):
            line[col] = ch
        else:
            line.append(ch)
        col += 1
    text = "".join(line).rstrip()
    bars += len(re.findall(r"real time|files, [0-9.]+ s", raw))
    prog = re.search(r"real time|\[[#.]{5,}|files, [0-9.]+ s", text)
    row = re.search(r"^(cry|vocal|sob) |crymeter:|episodes", text)
    rows += bool(row)
    if prog and row:
        torn += 1
        print("torn:", text[:150])
want_rows = int(sys.argv[2])
assert bars > 0, "no progress line was drawn"
assert rows >= want_rows, f"{rows} rows, expected {want_rows}"
sys.exit(1 if torn else 0)
PY
sox "$T/demo.wav" -c 2 "$T/demo3.wav" repeat 2
export CM_TEST_PROGRESS_EVERY_BLOCK=1
script -qc "$CRYMETER analyze $SRC/samples/demo.flac $T/demo3.wav $T/missing.wav" /dev/null < /dev/null > "$T/ts1" 2>&1
python3 "$T/torn.py" "$T/ts1" 11 && ok || bad "progress torn with -j 1: $(python3 "$T/torn.py" "$T/ts1" 11 2>&1 | tail -3)"
script -qc "$CRYMETER analyze -j 2 $SRC/samples/demo.flac $T/missing.wav $T/demo3.wav $SRC/samples/demo.flac" /dev/null < /dev/null > "$T/ts2" 2>&1
python3 "$T/torn.py" "$T/ts2" 15 && ok || bad "progress torn with -j 2: $(python3 "$T/torn.py" "$T/ts2" 15 2>&1 | tail -3)"
unset CM_TEST_PROGRESS_EVERY_BLOCK

finish
