#!/usr/bin/env bash
# The bad-input corpus: every case is made here (python3, sox, ffmpeg, printf; no binaries
# in the repository), run, and checked for its exit code and the words its message must
# contain. An input case runs `analyze GOOD_A BAD GOOD_B`: both good files must still be
# analysed whole (their records equal analysing each alone). One line per case; a failure
# names its case. tests/README.md has the table (CM_BADINPUT_TABLE=1 prints its rows).
set -u
CRYMETER=${CRYMETER:?set CRYMETER to the crymeter binary}
SRC=${CM_SOURCE_DIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TABLE=${CM_BADINPUT_TABLE:-0}
for tool in sox ffmpeg python3 timeout; do
    command -v "$tool" > /dev/null || { echo "FAIL: $tool is needed (make deps installs it)"; exit 1; }
done
n=0 fails=0 skips=0
pass() { echo "ok   $n $1"; }
fail() { echo "FAIL $n $1: $2"; fails=$((fails + 1)); }
skip() { echo "SKIP $n $1: $2"; skips=$((skips + 1)); }
row() { # NAME RC WORDS COMMAND: a row of the table in tests/README.md
    local w=${3:-"(none)"}
    printf '| %s | `%s` | %s | %s |\n' "$1" "$4" "$2" "${w//|/\\|}"
}

# --- inputs --------------------------------------------------------------------------------
cd "$T"
sox "$SRC/samples/demo.flac" -r 16000 -c 1 -b 16 good.wav trim 0 20   # holds the first cry
cp good.wav good_a.wav
sox good.wav -c 2 good_b.wav                                          # stereo
"$CRYMETER" analyze -f jsonl good_a.wav > ref_a.jsonl 2> /dev/null
"$CRYMETER" analyze -f jsonl good_b.wav > ref_b.jsonl 2> /dev/null
grep -q '"class":"cry"' ref_a.jsonl || { echo "FAIL: the good file has no cry episode"; exit 1; }
python3 "$SRC/tests/cli/badinput_gen.py" "$T"
: > empty.wav
echo "this is not audio, it is text" > text.wav
mkdir dir.wav
ln -s loop_b.wav loop_a.wav
ln -s loop_a.wav loop_b.wav
sox good.wav good.flac
sox good.wav good.ogg
ffmpeg -nostdin -loglevel error -i good.wav good.mp3
cut() { head -c "$2" "$1" > "$3"; }
cut good.wav 20 cut_header.wav
cut good.wav 45 cut_first.wav
cut good.wav 320022 cut_middle.wav
cut good.flac 20 cut_header.flac
cut good.flac 160 cut_first.flac
cut good.flac $(($(stat -c %s good.flac) / 2)) cut_middle.flac
cut good.ogg 20 cut_header.ogg
cut good.ogg 60 cut_first.ogg
cut good.ogg $(($(stat -c %s good.ogg) / 2)) cut_middle.ogg
cut good.mp3 20 cut_header.mp3
cut good.mp3 60 cut_first.mp3
cut good.mp3 $(($(stat -c %s good.mp3) / 2)) cut_middle.mp3
sox -n -r 16000 -c 1 -b 8 -e unsigned-integer u8.wav synth 2 sine 440 gain -10
sox -n -r 16000 -c 1 -e u-law ulaw.wav synth 2 sine 440 gain -10
sox -n -r 16000 -c 1 -b 24 s24.wav synth 2 sine 440 gain -10
sox -n -r 8000 -c 1 -b 16 rate_8k.wav synth 2 sine 440 gain -10
sox -n -r 192000 -c 2 -b 16 rate_192k.wav synth 2 sine 440 gain -10
sox -n -r 16000 -c 64 -b 16 ch_64.wav synth 1 sine 440 gain -10

frames_of() { python3 -c "
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s = [r for r in s if r['type'] == 'summary' and r['file'] == sys.argv[2]]
print(s[0]['frames_read'] if s else 'none')" "$1" "$2"; }

# good_whole OUT: the records of good_a.wav and good_b.wav in OUT equal their records alone
good_whole() { python3 - "$1" <<'PY'
import json, sys
out = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for name in ("good_a.wav", "good_b.wav"):
    ref = [json.loads(l) for l in open(name.replace("good", "ref").replace(".wav", ".jsonl"))]
    got = [r for r in out if r.get("file") == name]
    if got != ref:
        sys.exit(f"{name}: {len(got)} records beside the bad file, {len(ref)} alone, or they differ")
PY
}

# case_in NAME RC WORDS BAD [FRAMES]: analyze good_a.wav BAD good_b.wav exits RC, stderr
# matches WORDS (grep -Ei) and, for RC 1, names BAD; the good files are analysed whole; the
# bad file's summary says FRAMES frames read when given. Standard input is the caller's.
case_in() {
    local name=$1 rc=$2 words=$3 bad=$4 frames=${5:-}
    n=$((n + 1))
    if [ "$TABLE" = 1 ]; then
        row "$name" "$rc" "$words" "analyze good_a.wav $bad good_b.wav"
        return
    fi
    "$CRYMETER" analyze -f jsonl good_a.wav "$bad" good_b.wav > out 2> err
    local got=$?
    [ "$got" = "$rc" ] || { fail "$name" "exit $got, expected $rc: $(head -c 300 err)"; return; }
    [ -z "$words" ] || grep -Eqi -- "$words" err || { fail "$name" "no /$words/ in: $(head -c 300 err)"; return; }
    [ "$rc" = 0 ] || grep -qF -- "crymeter: $bad" err || { fail "$name" "message does not name $bad: $(head -c 300 err)"; return; }
    local why
    why=$(good_whole out 2>&1) || { fail "$name" "$why"; return; }
    if [ -n "$frames" ]; then
        local f
        f=$(frames_of out "$bad")
        [ "$f" = "$frames" ] || { fail "$name" "$bad: frames_read $f, expected $frames"; return; }
    fi
    pass "$name"
}

# case_cmd NAME RC WORDS -- COMMAND...: COMMAND exits RC and its stderr matches WORDS
case_cmd() {
    local name=$1 rc=$2 words=$3
    shift 4
    n=$((n + 1))
    if [ "$TABLE" = 1 ]; then
        row "$name" "$rc" "$words" "$(echo "$*" | sed "s|$CRYMETER|crymeter|g; s|$T/||g")"
        return
    fi
    "$@" > out 2> err
    local got=$?
    [ "$got" = "$rc" ] || { fail "$name" "exit $got, expected $rc: $(head -c 300 err)"; return; }
    [ -z "$words" ] || grep -Eqi -- "$words" err || { fail "$name" "no /$words/ in: $(head -c 300 err)"; return; }
    pass "$name"
}

# --- what the input is (a FIFO's writer is bounded generously: the bound only stops a hang) --
case_in empty 1 "empty file \(0 bytes" empty.wav
case_in text 1 "not an audio file libsndfile recognises" text.wav
case_in directory 1 "is a directory" dir.wav
case_in missing 1 "no such file" missing.wav
n=$((n + 1))
if [ "$(id -u)" = 0 ] && [ "$TABLE" != 1 ]; then
    skip no_permission "running as root, which reads through mode 000 (tests/unit/test_reader.c has the same case)"
else
    n=$((n - 1))
    cp good.wav noperm.wav
    chmod 000 noperm.wav
    case_in no_permission 1 "cannot open for reading: permission denied" noperm.wav
fi
case_in symlink_loop 1 "loop of symbolic links" loop_a.wav
mkfifo fifo.wav fifo_text.wav
[ "$TABLE" = 1 ] || { timeout 600 cat good.wav > fifo.wav & }
case_in fifo 0 "" fifo.wav 320000
wait
[ "$TABLE" = 1 ] || { timeout 600 cat text.wav > fifo_text.wav & }
case_in fifo_text 1 "not an audio file" fifo_text.wav
wait
case_in device_zeros 1 "/dev/zero: not an audio file" /dev/zero
case_in device_empty 1 "/dev/null: empty input" /dev/null
case_in stdin_pipe 0 "" - 320000 < <(cat good.wav)
case_in stdin_flac_pipe 1 "FLAC cannot be read from a pipe or FIFO.*ffmpeg" - < <(cat good.flac)
case_in stdin_empty 1 "empty input" - < <(:)
case_in stdin_ends_in_frame 1 "ends inside a frame \(1 byte" - 16000 < <(cat len_unknown.wav; printf x)

# --- cut short -----------------------------------------------------------------------------
case_in wav_cut_in_header 1 "malformed.*fmt" cut_header.wav
case_in wav_cut_in_first_frame 1 "no audio frames: file is truncated" cut_first.wav
case_in wav_cut_in_middle 1 "truncated: the header announced 320000 frames but the file holds 159989" cut_middle.wav 159989
case_in flac_cut_in_header 1 "malformed or unsupported" cut_header.flac
case_in flac_cut_in_first_frame 1 "truncated.*320000 frames|no audio frames" cut_first.flac
case_in flac_cut_in_middle 1 "decode error after [0-9]+ frames|truncated" cut_middle.flac
case_in ogg_cut_in_header 1 "malformed or unsupported" cut_header.ogg
case_in ogg_cut_in_first_page 1 "malformed" cut_first.ogg
case_in ogg_cut_in_middle 1 "truncated: the stream stops without its end \(no end-of-stream page\)" cut_middle.ogg
case_in mp3_cut_in_header 1 "not an audio file" cut_header.mp3
case_in mp3_cut_in_first_frame 1 "malformed or unsupported audio file: no decodable audio at its start" cut_first.mp3
case_in mp3_cut_in_middle 1 "truncated: the header announced 320000 frames" cut_middle.mp3

# --- headers that lie ----------------------------------------------------------------------
case_in length_twice_the_data 1 "truncated: the header announced 32000 frames but the file holds 16000" len_double.wav 16000
case_in length_half_the_data 0 "" len_half.wav 8000
case_in length_odd_half_frame 1 "ends inside a frame \(1 byte" len_odd.wav 16000
case_in riff_size_lies 0 "" riff_lies.wav 16000
case_in length_unknown_ffffffff 0 "" len_unknown.wav 16000
case_in length_zero_recorder_stopped 0 "" len_zero.wav 16000
case_in rate_0 1 "unsupported sample rate 0 Hz \(expected 8000..192000\)" rate_0.wav
case_in rate_1 1 "unsupported sample rate 1 Hz \(expected 8000..192000\)" rate_1.wav
case_in rate_4000 1 "unsupported sample rate 4000 Hz" rate_4000.wav
case_in rate_10000000 1 "unsupported sample rate 10000000 Hz" rate_10000000.wav
case_in channels_0 1 "channel count is zero" ch_0.wav
case_in channels_65 1 "unsupported channel count 65 \(expected 1..64\)" ch_65.wav
case_in channels_1000 1 "unsupported channel count 1000" ch_1000.wav
case_in bits_0 1 "unimplemented format" bits_0.wav
case_in bits_64_pcm 1 "unimplemented format" bits_64pcm.wav
case_in block_align_0 0 "" align_0.wav 16000
case_in format_tag_unknown 1 "malformed.*fmt" fmt_tag_bad.wav
case_in random_bytes_as_pcm 0 "" random_pcm.wav 16000
case_in random_bytes_as_float 1 "NaN or infinite|beyond \+-65536" random_float.wav 8000

# --- sample values -------------------------------------------------------------------------
case_in float_nan 1 "2 NaN or infinite samples, analysed as silence" nan.wav 16000
case_in float_inf 1 "2 NaN or infinite samples" inf.wav 16000
case_in float_denormals 0 "" denormal.wav 16000
case_in float_1e30 1 "15999 samples beyond \+-65536" huge.wav 16000
case_in float_max 1 "16000 samples beyond \+-65536" max_float.wav 16000
case_in float_18_dB_above_full_scale 0 "" above_fs.wav 16000
case_in dc_offset 0 "" dc.wav 16000
case_in square_full_scale 0 "" square_fs.wav 48000
case_in clipped 0 "" clipped.wav 48000

# --- shapes and encodings ------------------------------------------------------------------
case_in one_sample 0 "" one_sample.wav 1
case_in one_frame_stereo 0 "" one_frame_stereo.wav 1
case_in exactly_one_window 0 "" one_window.wav 16000
case_in header_only 1 "no audio frames" header_only.wav
case_in pcm_u8 0 "" u8.wav 32000
case_in ulaw 0 "" ulaw.wav 32000
case_in pcm_24 0 "" s24.wav 32000
case_in float_64 0 "" f64.wav 16000
case_in rate_8000 0 "" rate_8k.wav 16000
case_in rate_192000_stereo 0 "" rate_192k.wav 384000
case_in channels_64 0 "" ch_64.wav 16000

# --- files that change while read ----------------------------------------------------------
# grows: a recording still being written (data size 0xFFFFFFFF, as a streaming recorder
# leaves it) gains 1 s every 50 ms while analysed. Whatever the timing, what was there at
# open is read (at least the 4 s, at most the final 20 s) and it is not "truncated".
n=$((n + 1))
if [ "$TABLE" = 1 ]; then
    row grows_while_read 0 "" "analyze grow.wav (appended to while read)"
else
    python3 - <<'PY'
import struct
data = open("good.wav", "rb").read()[44:44 + 32000 * 4]
fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
hdr = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 0xFFFFFFFF)
open("grow.wav", "wb").write(hdr + data)
PY
    # one write() of whole frames at a time, so the file never ends inside a frame
    python3 -c "
import os, time
blk = open('good.wav', 'rb').read()[44:44 + 32000]
fd = os.open('grow.wav', os.O_WRONLY | os.O_APPEND)
for i in range(16):
    os.write(fd, blk)
    time.sleep(0.05)" &
    "$CRYMETER" analyze -f jsonl grow.wav > out 2> err
    got=$?
    wait
    f=$(frames_of out grow.wav)
    if [ "$got" = 0 ] && [ "$f" -ge 64000 ] && [ "$f" -le $((64000 + 16 * 16000)) ] && ! grep -qi truncated err; then
        pass grows_while_read
    else
        fail grows_while_read "exit $got, frames_read $f (expected 64000..320000): $(head -c 300 err)"
    fi
fi
# deleted: removed once analyze has it open (seen in /proc); its open descriptor keeps the
# data, so the file is analysed whole. The assertion holds whenever the removal happens.
n=$((n + 1))
if [ "$TABLE" = 1 ]; then
    row deleted_while_read 0 "" "analyze del.wav (removed while open)"
else
    sox good.wav -r 44100 -c 2 del.wav repeat 8
    "$CRYMETER" analyze -f jsonl del.wav > out 2> err &
    pid=$!
    seen=no
    for i in $(seq 1 500); do
        if ls -l /proc/$pid/fd 2> /dev/null | grep -q "del.wav"; then seen=yes; break; fi
        kill -0 $pid 2> /dev/null || break
        sleep 0.01
    done
    rm -f del.wav
    wait $pid
    got=$?
    f=$(frames_of out del.wav)
    if [ "$got" = 0 ] && [ "$f" = $((9 * 20 * 44100)) ]; then
        pass "deleted_while_read (removed while open: $seen)"
    else
        fail deleted_while_read "exit $got, frames_read $f, expected $((9 * 20 * 44100)): $(head -c 300 err)"
    fi
fi

# --- where the records go ------------------------------------------------------------------
case_cmd output_full_disk 1 "/dev/full: write failed \(No space left on device\)" -- \
    "$CRYMETER" analyze -f jsonl --force -o /dev/full good.wav
echo keep > existing.jsonl
case_cmd output_exists_no_force 2 "existing.jsonl: exists; use --force" -- \
    "$CRYMETER" analyze -f jsonl -o existing.jsonl good.wav
[ "$TABLE" = 1 ] || [ "$(cat existing.jsonl)" = keep ] || fail output_exists_no_force "the existing file was changed"
case_cmd output_is_directory 1 "dir.wav: cannot write" -- "$CRYMETER" analyze -f jsonl --force -o dir.wav good.wav
# a closed pipe: the reading end is closed before crymeter starts, so its first write fails
# whatever the timing; with SIGPIPE at its default crymeter dies of it silently (as cat and
# grep do), with SIGPIPE ignored it says so and exits 1
closed_pipe() { python3 - "$CRYMETER" "$1" <<'PY'
import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
pre = (lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN)) if sys.argv[2] == "ignore" else None
p = subprocess.run([sys.argv[1], "analyze", "-f", "jsonl", "good.wav"], stdout=w, stderr=subprocess.PIPE, preexec_fn=pre)
sys.stderr.write(p.stderr.decode())
sys.exit(128 - p.returncode if p.returncode < 0 else p.returncode)
PY
}
case_cmd output_closed_pipe 141 "" -- closed_pipe default
case_cmd output_closed_pipe_sigpipe_ignored 1 "standard output: write failed \(Broken pipe\)" -- closed_pipe ignore
# help, tables and reports printed to a full disk: the reader got less than was printed, so
# the command fails (main's last check, not each command's)
stdout_full() { "$@" > /dev/full; }
case_cmd help_full_disk 1 "standard output: write failed" -- stdout_full "$CRYMETER" adapt --help

# --- model files (--model) -----------------------------------------------------------------
M="$SRC/models/default.json"
: > m_empty.json
head -c 3000 "$M" > m_truncated.json
python3 - "$M" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
def put(name, f):
    d = json.loads(json.dumps(m)); f(d); json.dump(d, open(name, "w"))
put("m_newer.json", lambda d: d.update(format_version=4))
put("m_rate_text.json", lambda d: d.update(sample_rate_hz="x"))
put("m_hidden_mismatch.json", lambda d: d["network"].update(n_hidden=7))
put("m_classes.json", lambda d: d.update(classes=["a", "b", "c"]))
put("m_threshold_nan.json", lambda d: d["detector"].update(threshold="nan"))
# every field, removed one at a time: m_field_<path>.json
for k, v in m.items():
    put(f"m_field_{k}.json", lambda d, k=k: d.pop(k))
    if isinstance(v, dict):
        for k2 in v:
            put(f"m_field_{k}.{k2}.json", lambda d, k=k, k2=k2: d[k].pop(k2))
PY
case_cmd model_missing 1 "nope.json: no such file" -- "$CRYMETER" analyze --model nope.json good.wav
case_cmd model_empty 1 "m_empty.json: model: empty" -- "$CRYMETER" analyze --model m_empty.json good.wav
case_cmd model_text 1 "text.wav: model: invalid or truncated JSON near line 1" -- "$CRYMETER" analyze --model text.wav good.wav
case_cmd model_truncated 1 "m_truncated.json: model: invalid or truncated JSON near line" -- "$CRYMETER" analyze --model m_truncated.json good.wav
case_cmd model_newer_format_version 1 "format_version=4: expected 1, 2 or 3 \(a newer crymeter wrote this model" -- "$CRYMETER" analyze --model m_newer.json good.wav
case_cmd model_number_is_text 1 "sample_rate_hz: expected a number" -- "$CRYMETER" analyze --model m_rate_text.json good.wav
case_cmd model_sizes_disagree 1 "network.w1: 48 rows, expected 7" -- "$CRYMETER" analyze --model m_hidden_mismatch.json good.wav
case_cmd model_wrong_classes 1 "classes\[0\]: expected \"background\"" -- "$CRYMETER" analyze --model m_classes.json good.wav
case_cmd model_threshold_text 1 "detector.threshold" -- "$CRYMETER" analyze --model m_threshold_nan.json good.wav
# every field: provenance (a record of how the model was made), shape (the cry-shape
# settings, defaulted) and the frame network (with its provenance and weight, 0.5 when
# absent) are optional; the rest is required and its absence named
n=$((n + 1))
if [ "$TABLE" = 1 ]; then
    row "model_every_field (each of $(ls m_field_*.json | wc -l) removed)" "1 (provenance, provenance.*, shape, frame_net, frame_net.provenance, frame_net.weight: 0)" "FIELD: missing" "analyze --model m_field_FIELD.json good.wav"
else
    bad_fields=""
    for f in m_field_*.json; do
        field=${f#m_field_}
        field=${field%.json}
        "$CRYMETER" analyze -f jsonl --model "$f" one_sample.wav > out 2> err
        got=$?
        case $field in
        provenance | provenance.* | shape | frame_net | frame_net.provenance | frame_net.provenance.* | frame_net.weight) [ "$got" = 0 ] || bad_fields="$bad_fields $field(exit $got)" ;;
        *) [ "$got" = 1 ] && grep -qF "$f: $field: missing" err || bad_fields="$bad_fields $field(exit $got: $(head -c 100 err))" ;;
        esac
    done
    if [ -z "$bad_fields" ]; then pass "model_every_field ($(ls m_field_*.json | wc -l) fields)"; else fail model_every_field "$bad_fields"; fi
fi

# --- label files (evaluate FILE: Audacity labels in FILE.txt) ------------------------------
sox good.wav lab.wav trim 0 5
labels() { printf -- "$1" > lab.txt; }
lab_case() { # NAME RC WORDS LABELS
    local name=$1 rc=$2 words=$3
    if [ "$TABLE" = 1 ]; then
        n=$((n + 1))
        row "$name" "$rc" "$words" "evaluate lab.wav  (lab.txt: $(printf '%q' "$4" | sed 's/|/\\|/g'))"
        return
    fi
    if [ "$4" = "(none)" ]; then rm -f lab.txt; else labels "$4"; fi
    case_cmd "$name" "$rc" "$words" -- "$CRYMETER" evaluate lab.wav
}
lab_case labels_good 0 "" '1.0\t2.0\tcry\n'
lab_case labels_missing 1 "lab.wav: needs Audacity labels beside it in lab.txt" "(none)"
lab_case labels_unknown_label 1 "lab.txt: line 1: unknown label 'whistle'" '1.0\t2.0\twhistle\n'
lab_case labels_end_before_start 1 "lab.txt: line 2: end 1 before start 2" '0\t1\tcry\n2.0\t1.0\tcry\n'
lab_case labels_start_not_a_number 1 "lab.txt: line 1: expected 'start<TAB>end<TAB>label' with start a time" 'abc\t2.0\tcry\n'
lab_case labels_start_nan 1 "lab.txt: line 1: expected 'start<TAB>end<TAB>label'" 'nan\t2.0\tcry\n'
lab_case labels_start_negative 1 "lab.txt: line 1: expected 'start<TAB>end<TAB>label'" '-1\t2.0\tcry\n'
lab_case labels_one_field 1 "lab.txt: line 1: expected 'start<TAB>end<TAB>label'" '1.0\n'
lab_case labels_truncated_line 1 "lab.txt: line 2: empty label" '0\t1\tcry\n1.0\t2'
lab_case labels_nul_byte 1 "lab.txt: line 1: NUL byte" '\0\1\2\n'

# --- manifests (evaluate / calibrate --manifest CSV) ---------------------------------------
sox good.wav c1.wav trim 4 3
sox good.wav c2.wav trim 0 3
man() { printf -- "$1" > man.csv; }
man_case() { # NAME RC WORDS MANIFEST [calibrate]
    local name=$1 rc=$2 words=$3 cmd=${5:-evaluate}
    if [ "$TABLE" = 1 ]; then
        n=$((n + 1))
        row "$name" "$rc" "$words" "$cmd --manifest man.csv --data-root . $([ "$cmd" = calibrate ] && echo '-o x.json ')(man.csv: $(printf '%q' "$4" | sed 's/|/\\|/g'))"
        return
    fi
    if [ "$4" = "(none)" ]; then rm -f man.csv; else man "$4"; fi
    if [ "$cmd" = calibrate ]; then
        rm -f x.json
        case_cmd "$name" "$rc" "$words" -- "$CRYMETER" calibrate --manifest man.csv --data-root . -o x.json
    else
        case_cmd "$name" "$rc" "$words" -- "$CRYMETER" evaluate --manifest man.csv --data-root .
    fi
}
man_case manifest_good 0 "" 'path,label,group\nc1.wav,cry,a\nc2.wav,background,b\n'
man_case manifest_missing 1 "man.csv" "(none)"
man_case manifest_empty 1 "man.csv: manifest: no rows" ''
man_case manifest_header_only 1 "man.csv: manifest: no rows" 'path,label,group\n'
man_case manifest_one_column 1 "man.csv: line 1: 1 column, expected at least 2" 'c1.wav\nc2.wav,background,b\n'
man_case manifest_unknown_label 1 "man.csv: line 1: unknown label 'whistle'" 'c1.wav,whistle,a\nc2.wav,background,b\n'
man_case manifest_empty_path 1 "man.csv: line 1: empty path" ',cry,a\nc2.wav,background,b\n'
man_case manifest_audio_missing 1 "man.csv: line 1: ./nope.wav: no such file" 'nope.wav,cry,a\nc2.wav,background,b\n'
man_case manifest_audio_is_text 1 "text.wav: not an audio file" 'text.wav,cry,a\nc2.wav,background,b\n'
man_case manifest_unterminated_quote 1 "man.csv: line 1: unterminated quoted field" '"c1.wav,cry,a\nc2.wav,background,b\n'
man_case manifest_truncated_row 1 "man.csv: line 2: unknown label 'backgr'" 'c1.wav,cry,a\nc2.wav,backgr'
man_case manifest_nul_byte 1 "man.csv: manifest: NUL byte" '\0bin\n'
man_case manifest_unknown_label_calibrate 1 "man.csv: line 1: unknown label 'whistle'" 'c1.wav,whistle,a\nc2.wav,background,b\n' calibrate

[ "$TABLE" = 1 ] && exit 0
echo "$n cases: $((n - fails - skips)) passed, $fails failed, $skips skipped"
[ "$fails" = 0 ]
