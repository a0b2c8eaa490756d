#!/usr/bin/env bash
# crymeter report and the records behind it, checked in a real browser: the HTML of
# samples/demo.flac (analyze --start --level-step 1, then report; and analyze --report) and
# of a generated 24-hour night (tests/cli/gen_night.py: the records analyze would write,
# 86,400 level records) are loaded in headless Chromium, and the DOM after parsing must
# have one episode bar and one table row per episode and clock times on the axis; the
# per-hour CSV must sum to the episodes' durations. Damaged records are named by file:line,
# exit 1, and the report is still written from the valid ones. Without chromium (make check
# installs it) the browser checks are skipped with exit 77 after the others have run.
set -u
CRYMETER=${CRYMETER:?set CRYMETER to the crymeter binary}
SRC=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
GEN="$SRC/tests/cli/gen_night.py"

# dom FILE.html > FILE.dom: the DOM after Chromium parsed (and would have run scripts in) it
dom() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d -p "$T")" --dump-dom "file://$1" 2> "$T/chromium.err"
}

# check_dom DOM JSONL... [-- CSV]: counts in the DOM against the records
check_dom() { python3 - "$@" <<'PY'
import json, re, sys
from html.parser import HTMLParser
args = sys.argv[1:]
dom, rest = args[0], args[1:]
csv = None
if "--" in rest:
    i = rest.index("--"); csv = rest[i + 1]; rest = rest[:i]
expect_first = None
if rest and rest[0].startswith("first="):
    expect_first = rest[0][6:]; rest = rest[1:]
eps = []
for p in rest:
    for line in open(p):
        r = json.loads(line)
        if r["type"] == "episode":
            eps.append(r)
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.bars = 0; s.rows = 0; s.ticks = []; s.in_tick = False; s.nights = 0; s.audio = 0
    def handle_starttag(s, tag, a):
        c = (dict(a).get("class") or "").split()
        if tag == "rect" and "ep" in c: s.bars += 1
        if tag == "tr" and "ep-row" in c: s.rows += 1
        if tag == "g" and "night" in c: s.nights += 1
        if tag == "audio": s.audio += 1
        s.in_tick = tag == "text" and "tick" in c and "clock" in c
        if s.in_tick: s.ticks.append("")
    def handle_data(s, d):
        if s.in_tick: s.ticks[-1] += d
    def handle_endtag(s, tag):
        s.in_tick = False
p = P(); p.feed(open(dom).read())
err = []
if p.bars != len(eps): err.append(f"{p.bars} episode bars for {len(eps)} episodes")
if p.rows != len(eps): err.append(f"{p.rows} table rows for {len(eps)} episodes")
if len(p.ticks) < 3: err.append(f"{len(p.ticks)} clock ticks on the axis")
if not all(re.fullmatch(r"\d\d:\d\d(:\d\d)?", t) for t in p.ticks): err.append(f"axis labels {p.ticks}")
if expect_first and (not p.ticks or p.ticks[0] != expect_first): err.append(f"axis starts {p.ticks[:1]}, expected {expect_first}")
if csv:
    import csv as C
    rows = list(C.DictReader(open(csv)))
    tot = sum(float(r["cry_s"]) + float(r["sob_s"]) + float(r["vocal_s"]) for r in rows)
    want = sum(e["duration_s"] for e in eps)
    if abs(tot - want) > 0.001 * max(len(rows), 1): err.append(f"per-hour CSV sums to {tot:.3f} s, episodes to {want:.3f} s")
    if sum(int(r["episodes"]) for r in rows) != len(eps): err.append("per-hour episode counts do not sum to the episodes")
    exc = sum(1 for e in eps if e["excessive"]["flag"])
    if sum(int(r["excessive"]) for r in rows) != exc: err.append("per-hour excessive counts do not sum")
print(f"{dom}: {p.bars} bars, {p.rows} rows, {p.nights} nights, ticks {p.ticks[:3]}...", file=sys.stderr)
if err: sys.exit("; ".join(err))
PY
}

cp "$SRC/samples/demo.flac" "$T/demo.flac"
START=2026-12-01T21:00:00+01:00

# --- records: clock, level track, summary line --------------------------------------------
expect 0 "" -- "$CRYMETER" analyze -f jsonl --no-progress --level-step 1 --start "$START" \
    -o "$T/demo.jsonl" "$T/demo.flac"
python3 - "$T/demo.jsonl" <<'PY' && ok || bad "demo records: level track or clock wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
lv = [r for r in recs if r["type"] == "level"]
ep = [r for r in recs if r["type"] == "episode"]
sm = [r for r in recs if r["type"] == "summary"][0]
assert len(lv) == 62, len(lv)                              # 62 s, one per second
assert [r["start_s"] for r in lv] == [float(k) for k in range(62)]
assert lv[-1]["end_s"] == 62.0
assert all(r["class"] in ("background", "vocal", "cry") and 0 <= r["cry_p"] <= 1 for r in lv)
assert sm["clock"] == "2026-12-01T21:00:00.000+01:00", sm["clock"]
assert lv[10]["clock"] == "2026-12-01T21:00:10.000+01:00", lv[10]["clock"]
for e in ep:  # clock = start + start_s, to the millisecond
    assert e["clock"].startswith("2026-12-01T21:00:"), e["clock"]
    assert abs(float(e["clock"][17:23]) - e["start_s"]) <= 0.0015, (e["clock"], e["start_s"])
# cry seconds in the level track: the detector says cry somewhere in each cry episode
assert any(r["class"] == "cry" for r in lv if 4 <= r["start_s"] < 19)
# max of the levels equals the episodes' max where an episode holds the loudest second
assert max(r["spl_db_max"] for r in lv) >= max(e["loudness"]["spl_db_max"] for e in ep) - 0.01
PY
# the level track does not depend on how files are scheduled (-j 2 with two copies = -j 1)
cp "$T/demo.flac" "$T/demo2.flac"
"$CRYMETER" analyze -f jsonl --no-progress --level-step 0.5 -j 2 "$T/demo.flac" "$T/demo2.flac" > "$T/j2.jsonl" 2>/dev/null
"$CRYMETER" analyze -f jsonl --no-progress --level-step 0.5 "$T/demo.flac" "$T/demo2.flac" > "$T/j1.jsonl" 2>/dev/null
[ "$(grep -c '"type":"level"' "$T/j1.jsonl")" = 248 ] && cmp -s "$T/j1.jsonl" "$T/j2.jsonl" && ok \
    || bad "--level-step 0.5: -j 2 differs from -j 1 or not 2 x 124 level records"
expect 0 "" -- "$CRYMETER" analyze -f csv --no-progress --level-step 2 --level-csv "$T/lv.csv" -o "$T/ep.csv" "$T/demo.flac"
n_ep=$("$CRYMETER" analyze -f jsonl --no-progress "$T/demo.flac" 2>/dev/null | grep -c '"type":"episode"')
[ "$(head -1 "$T/lv.csv")" = "file,start_s,end_s,clock,lufs_momentary_max,dba_max,spl_db_max,calibrated,class,cry_p" ] \
    && [ "$(wc -l < "$T/lv.csv")" = 32 ] && [ "$n_ep" -ge 3 ] && [ "$(wc -l < "$T/ep.csv")" = $((n_ep + 1)) ] && ok \
    || bad "--level-csv: header, 31 rows of 2 s, and the episode CSV untouched ($n_ep episodes)"
expect 2 "level-step.*--level-csv" -- "$CRYMETER" analyze -f csv --level-step 1 "$T/demo.flac"
expect 2 "--start" -- "$CRYMETER" analyze --start yesterday "$T/demo.flac"
expect 2 "one file" -- "$CRYMETER" analyze --start "$START" "$T/demo.flac" "$T/demo2.flac"
# a WAV bext origination date and time (local) gives the clock; --start overrides it
ffmpeg -loglevel error -y -i "$T/demo.flac" -write_bext 1 -metadata origination_date=2026-11-30 \
    -metadata origination_time=22:15:00 "$T/bext.wav"
TZ=CET-1 "$CRYMETER" analyze -f jsonl --no-progress "$T/bext.wav" > "$T/bext.jsonl" 2>/dev/null
grep -q '"type":"summary".*"clock":"2026-11-30T22:15:00.000+01:00"' "$T/bext.jsonl" && ok \
    || bad "bext origination time not used: $(tail -1 "$T/bext.jsonl" | cut -c1-160)"
TZ=CET-1 "$CRYMETER" analyze -f jsonl --no-progress --start 2026-12-01T06:00:00Z "$T/bext.wav" > "$T/bext2.jsonl" 2>/dev/null
grep -q '"type":"summary".*"clock":"2026-12-01T06:00:00.000+00:00"' "$T/bext2.jsonl" && ok \
    || bad "--start does not override the bext time"
# the table: clock times, and one summary line a person reads
expect 0 "" -- "$CRYMETER" analyze -f table --no-progress --start "$START" "$T/demo.flac"
grep -Eq '^cry +21:00:0[0-9]\.[0-9] +21:00:[0-9]{2}\.[0-9]' "$T/out" && ok || bad "table: no clock times: $(cat "$T/out")"
grep -Eq 'demo\.flac: crying 0:00:2[0-9]\.[0-9] \([0-9.]+ % of 0:01:02\.0\); episodes: cry [23], vocal 1; longest (cry|vocal) [0-9.]+ s at 21:00:[0-5][0-9]; loudest cry [0-9.]+ dB\(A\) SPL\* at 21:00:[0-5][0-9]; excessive [23] \(loud [23]\)' "$T/out" \
    && ok || bad "table: no summary line: $(cat "$T/out")"

# --- report files ---------------------------------------------------------------------------
expect 0 "" -- "$CRYMETER" report -o "$T/demo.html" --per-hour "$T/demo-hours.csv" "$T/demo.jsonl"
expect 2 "exists" -- "$CRYMETER" report -o "$T/demo.html" "$T/demo.jsonl"
expect 0 "" -- "$CRYMETER" analyze -f table --no-progress --start "$START" --report "$T/direct.html" "$T/demo.flac"
expect 2 "direct\.html: exists" -- "$CRYMETER" analyze -f jsonl --no-progress --report "$T/direct.html" "$T/demo.flac"
[ ! -s "$T/out" ] && ok || bad "analyze --report to an existing file analysed before refusing"
python3 "$GEN" "$T/n24.jsonl" --hours 24 --start 2026-12-01T19:00:00+01:00 --seed 1
expect 0 "" -- "$CRYMETER" report -o "$T/n24.html" --per-hour "$T/n24.csv" "$T/n24.jsonl"
size=$(stat -c %s "$T/n24.html")
[ "$size" -lt 2000000 ] && ok || bad "24-hour report is $size bytes (goal < 2 MB)"
[ "$(wc -l < "$T/n24.csv")" = 25 ] && ok || bad "24-hour per-hour CSV: $(wc -l < "$T/n24.csv") lines, expected 24 + header"
grep -q '^night.wav,.*,2026-12-01T19:00:00.000+01:00,0,' "$T/n24.csv" && ok || bad "per-hour CSV: first hour not 19:00"
# self-contained: nothing fetched from anywhere
grep -Eiq '<script|<link|src="(https?:)?//|url\(' "$T/n24.html" "$T/demo.html" && bad "report refers to outside resources" || ok
# several nights on one axis
python3 "$GEN" "$T/a.jsonl" --hours 9 --start 2026-12-02T21:30:00+01:00 --seed 2 --file mon.wav --episodes 20
python3 "$GEN" "$T/b.jsonl" --hours 8 --start 2026-12-03T22:15:00+01:00 --seed 3 --file tue.wav --episodes 20
expect 0 "" -- "$CRYMETER" report -o "$T/two.html" --per-hour "$T/two.csv" "$T/a.jsonl" "$T/b.jsonl"

# --- damaged records: named by line, exit 1, the report from the rest -----------------------
python3 - "$T/demo.jsonl" "$T/bad.jsonl" <<'PY'
import json, sys
recs = [l for l in open(sys.argv[1])]
eps = [l for l in recs if '"type":"episode"' in l]
other = json.loads(eps[0]); other["file"] = "other.wav"; other["id"] = 1
v2 = json.loads(eps[1]); v2["version"] = 2; v2["id"] = 99
with open(sys.argv[2], "w") as f:
    f.write(eps[0])                                  # line 1: good
    f.write("Hello, this is not JSON\n")             # line 2
    f.write(json.dumps(v2) + "\n")                   # line 3: newer schema
    f.write(json.dumps(other) + "\n")                # line 4: another file
    f.write(eps[1])                                  # line 5: back to demo: interleaved
    f.write('{"type":"burp","file":"x"}\n')          # line 6: not a crymeter record
    f.write(eps[2][:80])                             # line 7: truncated, no newline
PY
expect_stderr 1 "bad\.jsonl:2: not a JSON" -- "$CRYMETER" report -o "$T/bad.html" --per-hour "$T/bad.csv" "$T/bad.jsonl"
for pat in "bad\.jsonl:3: schema version 2 is newer" "bad\.jsonl:5: .*interleaved" \
           "bad\.jsonl:6: unknown record type" "bad\.jsonl:7: truncated last line"; do
    grep -Eq "$pat" "$T/err" && ok || bad "damaged input: no /$pat/ in: $(cat "$T/err")"
done
[ -s "$T/bad.html" ] && [ "$(grep -c 'class="ep-row"' "$T/bad.html")" = 3 ] && ok \
    || bad "damaged input: the report of the 3 valid episodes was not written"

# --- in a real browser -------------------------------------------------------------------------
if ! command -v chromium > /dev/null; then
    echo "SKIP: chromium is not installed (apt-get install chromium; make check installs it)"
    finish || exit 1
    exit 77
fi
dom "$T/demo.html" > "$T/demo.dom" && check_dom "$T/demo.dom" first=21:00:00 "$T/demo.jsonl" -- "$T/demo-hours.csv" \
    && ok || bad "demo report in Chromium: $(tail -3 "$T/chromium.err")"
dom "$T/direct.html" > "$T/direct.dom" && check_dom "$T/direct.dom" first=21:00:00 "$T/demo.jsonl" \
    && ok || bad "analyze --report in Chromium"
dom "$T/n24.html" > "$T/n24.dom" && check_dom "$T/n24.dom" first=19:00 "$T/n24.jsonl" -- "$T/n24.csv" \
    && ok || bad "24-hour report in Chromium"
dom "$T/two.html" > "$T/two.dom" && check_dom "$T/two.dom" first=21:00 "$T/a.jsonl" "$T/b.jsonl" -- "$T/two.csv" \
    && grep -c 'class="night"' "$T/two.dom" | grep -qx 2 && grep -c 'class="night-row"' "$T/two.dom" | grep -qx 2 \
    && ok || bad "two nights in Chromium: not one timeline row and one comparison row each"
finish
