# SPDX-License-Identifier: MIT
"""The Python package (src/python/crymeter) against the crymeter tool, run by test_python.sh
with the installed package on sys.path:
  - analyze(path) gives the episodes and summary of `crymeter analyze -f jsonl`, equal in
    every number the tool prints, to its printed digits;
  - Analyzer.push gives the same for float32 and int16 arrays in several chunkings, and
    analyze(array) too; poll() returns start/end records in order, then the summary;
  - two analyzers on two threads give what one after the other gives, and a push leaves
    the GIL free (another thread runs Python meanwhile);
  - errors raise crymeter.Error with crymeter's message, never a crash: a wrong dtype, a 3-D
    array, a wrong channel count, a closed or finished analyzer, a bad option, a missing
    model file, a missing audio file; NaN samples are counted as the tool counts them;
  - to_pandas() has one row per episode.
argv: CRYMETER_BINARY DEMO_FLAC"""
import json
import subprocess
import sys
import threading
import time

import numpy as np

import crymeter

crymeter_bin, demo = sys.argv[1], sys.argv[2]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        print("FAIL:", what)
        fails += 1


# The tool's records, numbers kept as printed (strings) to compare digit for digit.
out = subprocess.run([crymeter_bin, "analyze", "-f", "jsonl", "--no-progress", demo],
                     check=True, capture_output=True, text=True).stdout
recs = [json.loads(l, parse_float=str, parse_int=str) for l in out.splitlines()]
tool_eps = [r for r in recs if r["type"] == "episode"]
tool_sum = [r for r in recs if r["type"] == "summary"][0]


def same_number(printed, value):
    """value, formatted with as many decimals as the tool printed, equals the printed text."""
    d = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{d}f}" == printed


def compare(res, label):
    check(len(res.episodes) == len(tool_eps), f"{label}: {len(res.episodes)} episodes, tool "
          f"{len(tool_eps)}")
    for e, t in zip(res.episodes, tool_eps):
        check(e.cls == t["class"], f"{label}: episode {e.id} class {e.cls} vs {t['class']}")
        for k, v in (("start_s", e.start_s), ("end_s", e.end_s), ("duration_s", e.duration_s),
                     ("confidence", e.confidence)):
            check(same_number(t[k], v), f"{label}: episode {e.id} {k} {v} vs {t[k]}")
        for k, v in (("lufs_momentary_max", e.lufs_momentary_max), ("dba_max", e.dba_max),
                     ("peak_dbfs", e.peak_dbfs), ("spl_db_max", e.spl_db_max)):
            check(same_number(t["loudness"][k], v),
                  f"{label}: episode {e.id} {k} {v} vs {t['loudness'][k]}")
        check(same_number(t["pitch"]["f0_median_hz"], e.f0_median_hz),
              f"{label}: episode {e.id} f0 {e.f0_median_hz} vs {t['pitch']['f0_median_hz']}")
        check((t["excessive"]["flag"] == "true" or t["excessive"]["flag"] is True)
              == bool(e.excessive), f"{label}: episode {e.id} excessive")
    s = res.summary
    for k in ("duration_s", "lufs_integrated", "lra_lu", "true_peak_dbtp", "sample_peak_dbfs"):
        check(same_number(tool_sum[k], getattr(s, k)), f"{label}: summary {k} "
              f"{getattr(s, k)} vs {tool_sum[k]}")
    check(str(s.frames_read) == tool_sum["frames_read"], f"{label}: frames_read")
    check(str(s.nonfinite_samples) == tool_sum["nonfinite_samples"], f"{label}: nonfinite")
    check({k: str(v) for k, v in s.episodes_by_class.items()} == tool_sum["episodes_by_class"],
          f"{label}: episodes by class {s.episodes_by_class}")


# 1. A file.
res = crymeter.analyze(demo)
compare(res, "analyze(path)")
check(len(tool_eps) >= 3, f"the demo has {len(tool_eps)} episodes")

# The demo's samples as arrays, read with libsndfile as the tool reads them.
sf = crymeter._sndfile()
info = crymeter._SFInfo()
h = sf.sf_open(demo.encode(), crymeter._SFM_READ, info)
floats = np.zeros(info.frames, dtype=np.float32)
sf.sf_command(h, crymeter._SFC_SET_NORM_FLOAT, None, 1)
check(sf.sf_readf_float(h, floats.ctypes.data, info.frames) == info.frames, "read the demo")
sf.sf_close(h)
# A 16-bit file: the floats are the int16 samples / 32768 exactly.
shorts = np.round(floats * 32768).astype(np.int16)
check(np.array_equal(shorts.astype(np.float32) / 32768, floats), "the demo is 16-bit")


def stream(arr, sizes, **opt):
    with crymeter.Analyzer(info.samplerate, 1, **opt) as a:
        i, k, recs = 0, 0, []
        while i < len(arr):
            n = sizes[k % len(sizes)]
            a.push(arr[i:i + n])
            recs += a.poll()
            i, k = i + n, k + 1
        r = a.finish()
        recs += a.poll()
        return r, recs


# 2. Arrays, chunked.
rng = np.random.default_rng(7)
for label, sizes in (("one push", [len(floats)]), ("4096", [4096]), ("1 then 7", [1, 7]),
                     ("random 1..20000", list(rng.integers(1, 20000, 50)))):
    for dt, arr in (("float32", floats), ("int16", shorts)):
        r, rr = stream(arr, sizes)
        compare(r, f"push {dt}, {label}")
        kinds = [x.kind for x in rr]
        check(kinds[-1] == "summary" and kinds.count("end") == len(r.episodes)
              and kinds.count("start") == len(r.episodes), f"records {kinds}")
        ids = [x.episode.id for x in rr if x.kind == "end"]
        check(ids == sorted(ids), f"end records out of order: {ids}")
compare(crymeter.analyze(floats, rate=info.samplerate), "analyze(array)")
compare(crymeter.analyze(floats.astype(np.float64), rate=info.samplerate), "analyze(float64)")
# Two channels carrying the same signal: the channel mean is the signal.
st = np.stack([floats, floats], axis=1)
r2 = crymeter.analyze(st, rate=info.samplerate)
check([(e.cls, round(e.start_s, 3)) for e in r2.episodes]
      == [(e.cls, round(e.start_s, 3)) for e in res.episodes], "stereo copy")

# 3. Threads: the same answers, and a push leaves the GIL to others.
results = [None, None]


def work(i):
    results[i] = stream(floats, [8192])[0]


ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for i in range(2):
    compare(results[i], f"thread {i}")
# Ten minutes of quiet noise in one push: no episode, so no callback into Python (a callback
# runs bytecode, which lets other threads in even where the GIL is held).
long = (0.01 * rng.standard_normal(info.samplerate * 600)).astype(np.float32)
state = {"in": False, "done": False}


def one_push():
    with crymeter.Analyzer(info.samplerate, 1) as a:
        state["in"] = True
        a.push(long)
        state["done"] = True


# No forced switches between threads: the main thread can run during the push only if the
# push has released the GIL (sleep(0) hands it back each loop), so the count does not depend
# on how fast either thread runs, only on whether it can run at all.
old_interval = sys.getswitchinterval()
sys.setswitchinterval(100.0)
t = threading.Thread(target=one_push)
t.start()
count = 0
while not state["done"]:
    if state["in"]:
        count += 1
    time.sleep(0)
t.join()
sys.setswitchinterval(old_interval)
check(count > 0, "the main thread never ran during a 10-minute push: the GIL was held")

# 4. Errors, never a crash.


def raises(fn, pattern, exc=crymeter.Error):
    try:
        fn()
    except exc as e:
        check(pattern in str(e), f"message {str(e)!r} lacks {pattern!r}")
        return
    except Exception as e:  # noqa
        check(False, f"expected {exc.__name__} ({pattern}), got {type(e).__name__}: {e}")
        return
    check(False, f"expected {exc.__name__} ({pattern}), nothing raised")


a = crymeter.Analyzer(16000, 1)
raises(lambda: a.push(np.zeros(10, dtype=np.int32)), "dtype int32")
raises(lambda: a.push(np.zeros((2, 2, 2), dtype=np.float32)), "3-D")
raises(lambda: a.push(np.zeros((10, 2), dtype=np.float32)), "expected (frames, 1)")
a.push(np.full(16000, np.nan, dtype=np.float32))
a.push(np.zeros(0, dtype=np.int16))
r = a.finish()
check(r.summary.nonfinite_samples == 16000, f"NaN counted: {r.summary.nonfinite_samples}")
raises(lambda: a.push(np.zeros(10, dtype=np.float32)), "finished")
raises(a.finish, "already finished")
a.close()
a.close()
raises(lambda: a.push(np.zeros(10, dtype=np.float32)), "closed")
raises(a.poll, "closed")
raises(lambda: crymeter.Analyzer(4000, 1), "rate")
raises(lambda: crymeter.Analyzer(16000, 0), "channels")
raises(lambda: crymeter.Analyzer(16000, 1, loud_db="loud"), "loud_db")
raises(lambda: crymeter.Analyzer(16000, 1, long_s=-5), "long_s")
raises(lambda: crymeter.Analyzer(16000, 1, model_path="/no/such/model.json"), "model.json")
raises(lambda: crymeter.Analyzer(16000, 1, colour="red"), "unknown option", TypeError)
raises(lambda: crymeter.analyze("/no/such/file.flac"), "/no/such/file.flac")
raises(lambda: crymeter.analyze(floats), "rate=")
# An exception in a callback reaches the push that called back.


def boom(rec):
    raise ValueError("from the callback")


with crymeter.Analyzer(info.samplerate, 1, on_record=boom) as a:
    raises(lambda: a.push(floats), "from the callback", ValueError)
# Options reach the analysis: loud_db above every episode flags none as loud.
quiet = crymeter.analyze(demo, loud_db=120)
check(all("loud" not in e.excessive for e in quiet.episodes), "loud_db=120 still flags loud")
check(any("loud" in e.excessive for e in res.episodes), "the demo has no loud episode")

# 5. pandas.
df = res.to_pandas()
check(len(df) == len(res.episodes) and list(df["cls"]) == [e.cls for e in res.episodes],
      "to_pandas rows")
check(crymeter.version().count(".") == 2, f"version {crymeter.version()}")

print(f"python_api: {fails} failed")
sys.exit(1 if fails else 0)
