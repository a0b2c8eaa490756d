#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks of augment.py on synthetic signals (no data needed):

    python3 models/train/test_augment.py

RT60 of the synthetic RIRs, AGC flattening, mix SNR, the FLAC writer against ffmpeg and
sox, and on a small synthetic data set: determinism (--jobs 1 vs 2, and a --labels subset),
the cache (a rerun computes nothing) and the bed group rule.
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:  # a pyenv/venv python without numpy: use Debian's, which has it
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import augment as A  # noqa: E402

SR = A.SR


def rms_db(x):
    return 10 * math.log10(float(np.mean(x ** 2)) + 1e-20)


def test_rir_rt60():
    for dims, rt60, dist, seed in [([3.0, 4.0, 2.5], 0.25, 1.0, 1),
                                   ([5.0, 4.0, 2.7], 0.5, 2.0, 2),
                                   ([6.0, 5.5, 3.0], 0.8, 3.0, 3)]:
        mic, src, d = A.place_in_room(np.random.default_rng(seed), dims, dist)
        assert abs(d - dist) < 1e-9, (dims, dist, d)
        h = A.make_rir(dims, mic, src, rt60, tail_seed=seed)
        assert h[0] == max(abs(h)) and abs(h[0] - 1.0) < 1e-2, h[:4]   # direct path ~ 1
        t20 = A.schroeder_rt60(h, -5, -25)
        t30 = A.schroeder_rt60(h, -5, -35)
        print("rir %s rt60 %.2f dist %.1f: T20 %.3f T30 %.3f" % (dims, rt60, dist, t20, t30))
        assert abs(t20 / rt60 - 1) < 0.2 and abs(t30 / rt60 - 1) < 0.2, (rt60, t20, t30)


def short_term_db(y, start_s=2.0, win_s=1.0, hop_s=0.1):
    w, h = int(win_s * SR), int(hop_s * SR)
    return [rms_db(y[i:i + w]) for i in range(int(start_s * SR), len(y) - w + 1, h)]


def test_agc():
    t = np.arange(10 * SR) / SR
    lev = np.where((t // 2.0) % 2 == 0, -10.0, -40.0)      # 2 s at -10, 2 s at -40 dBFS ...
    x = math.sqrt(2) * 10 ** (lev / 20) * np.sin(2 * math.pi * 440 * t)
    r_in = short_term_db(x)
    assert max(r_in) - min(r_in) > 25
    for ratio, rel, limit in [(6.0, 1.5, 6.0), (8.0, 1.0, 6.0), (4.0, 2.0, 7.0)]:
        y = A.agc_compress(x, target_db=-20.0, rel_s=rel, ratio=ratio)
        r = short_term_db(y)
        print("agc ratio %.0f release %.1f s: 1 s level %.1f..%.1f dBFS (%.1f dB; input %.1f dB)"
              % (ratio, rel, min(r), max(r), max(r) - min(r), max(r_in) - min(r_in)))
        assert max(r) - min(r) < limit, (ratio, rel, max(r) - min(r))
        assert abs(np.mean(r) + 20) < 4


def test_mix_snr():
    rng = np.random.default_rng(7)
    n = int(4.3 * SR)
    t = np.arange(n) / SR
    on = (t % 1.0) < 0.5                                # 0.5 s bursts, 0.5 s silence
    clip = np.where(on, 0.3 * np.sin(2 * math.pi * 500 * t), 0.0)
    p_active = float(np.mean(clip[on] ** 2))             # the active part, by construction
    bed = A.zero_phase_filter(rng.standard_normal(int(1.3 * SR)),
                              A.tilt_response(-3.0))      # shorter than the clip: loops
    for snr in (-5.0, 5.0, 20.0):
        seg = A.loop_to(bed, n, int(0.4 * SR))
        mix, g = A.mix_bed(clip, seg, snr)
        noise = mix - clip
        measured = 10 * math.log10(p_active / float(np.mean(noise ** 2)))
        print("mix snr %.1f dB: measured %.2f dB" % (snr, measured))
        assert abs(measured - snr) < 0.5, (snr, measured)
    long_bed = rng.standard_normal(10 * SR)
    seg = A.loop_to(long_bed, n, 5 * SR)
    assert np.array_equal(seg, long_bed[5 * SR:5 * SR + n])


def test_flac_writer(tmp):
    rng = np.random.default_rng(3)
    for name, x in [("noise", rng.standard_normal(SR * 3) * 3000),
                    ("tone", np.sin(np.arange(4096 * 130 + 17) * 0.05) * 20000),
                    ("silence", np.zeros(5000)), ("tiny", rng.standard_normal(9) * 100)]:
        q = np.clip(np.round(x), -32767, 32767).astype("<i2")
        p = os.path.join(tmp, name + ".flac")
        with open(p, "wb") as f:
            f.write(A.flac_bytes(q, {"CRYMETER_AUG": '{"k": "a=b; c"}'}))
        y = np.frombuffer(subprocess.run(
            ["ffmpeg", "-v", "error", "-err_detect", "crccheck+explode", "-i", p, "-f",
             "s16le", "-"], capture_output=True, check=True).stdout, "<i2")
        assert np.array_equal(y, q), name
        z = np.frombuffer(subprocess.run(["sox", p, "-t", "raw", "-"], capture_output=True,
                                         check=True).stdout, "<i2")
        assert np.array_equal(z, q), name
        assert A.read_flac_tag(p) == '{"k": "a=b; c"}'
        # the STREAMINFO MD5 is the one ffmpeg's own encoder writes for these samples
        raw = os.path.join(tmp, name + ".s16")
        q.tofile(raw)
        ref = os.path.join(tmp, name + "-ff.flac")
        A.run_ffmpeg(["-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", raw, ref])
        with open(p, "rb") as f1, open(ref, "rb") as f2:
            assert f1.read(42)[26:42] == f2.read(42)[26:42], name
    print("flac writer: bit-exact through ffmpeg (CRC checked) and sox, MD5 as ffmpeg's")


def test_codecs_short(tmp):
    """Each codec round trip keeps the length and alignment, also for a 0.2 s clip (ffmpeg
    could not probe such a short GSM file)."""
    root = os.path.join(tmp, "codec")
    os.makedirs(os.path.join(root, "out"))
    t = np.arange(int(1.5 * SR)) / SR
    x = 0.3 * np.sin(2 * math.pi * 700 * t) * (np.sin(2 * math.pi * 3 * t) > 0)
    items = []
    for dur in (0.2, 1.5):
        name = "c%.1f.flac" % dur
        write_flac_at(os.path.join(root, name), x[:int(dur * SR)], SR)
        for c in A.CODEC_ENC:
            items.append({"row": {"path": name, "label": "x", "group": "g",
                                  "duration_s": "%.1f" % dur},
                          "plan": {"v": A.AUG_VERSION, "codec": c},
                          "name": "%s-%.1f.flac" % (c, dur)})
    rows = A.process_batch((items, root, os.path.join(root, "out"), None))
    assert all(r is not None for r in rows), rows
    for it in items:
        p = os.path.join(root, "out", it["name"])
        y = np.frombuffer(subprocess.run(["ffmpeg", "-v", "error", "-i", p, "-f", "s16le", "-"],
                                         capture_output=True, check=True).stdout, "<i2") / 32767
        ref = x[:len(y)]
        assert len(y) == int(float(it["row"]["duration_s"]) * SR), it["name"]
        if len(y) == len(x):       # aligned within 2 samples, level within 3 dB
            cc = np.correlate(y[SR // 4:-SR // 4], ref[SR // 4 - 8:-SR // 4 + 8], "valid")
            lag = 8 - int(np.argmax(cc))
            assert abs(lag) <= 2, (it["name"], lag)
            assert abs(rms_db(y) - rms_db(ref)) < 3, (it["name"], rms_db(y), rms_db(ref))
    print("codecs: gsm, opus-nb, opus-wb, mp3 keep length and alignment (0.2 s and 1.5 s)")


def write_flac_at(path, x, rate):
    raw = path + ".f32"
    x.astype("<f4").tofile(raw)
    A.run_ffmpeg(["-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", raw, "-c:a", "flac",
                  "-sample_fmt", "s16", path])
    os.remove(raw)


def make_dataset(root):
    """A few synthetic clips: cries (two groups), speech-ish, noise, music, home beds."""
    rng = np.random.default_rng(11)
    rows = []

    def add(label, group, source, dur, kind, rate=16000):
        i = len(rows)
        rel = "audio/%s/%s_%02d.flac" % (source, label, i)
        n = int(dur * rate)
        t = np.arange(n) / rate
        if kind == "cry":
            f0 = 450 + 60 * np.sin(2 * math.pi * 0.7 * t)
            env = (np.sin(2 * math.pi * 0.8 * t) > -0.3) * 0.4
            x = env * sum(np.sin(2 * math.pi * k * np.cumsum(f0) / rate) / k
                          for k in (1, 2, 3))
        elif kind == "speech":
            x = 0.2 * rng.standard_normal(n) * (np.sin(2 * math.pi * 4 * t) > 0)
        elif kind == "music":
            x = 0.2 * (np.sin(2 * math.pi * 262 * t) + np.sin(2 * math.pi * 330 * t))
        else:
            x = 0.05 * rng.standard_normal(n)
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        write_flac_at(os.path.join(root, rel), x, rate)
        rows.append({"path": rel, "label": label, "group": group, "duration_s": "%.3f" % dur,
                     "sample_rate": str(rate), "source": source, "source_repo": "synthetic",
                     "licence": "CC0", "original_path": rel, "note": "synthetic, test"})

    for i in range(6):
        add("cry_infant", "home:a" if i < 3 else "home:b", "synth_cry", 2.0 + 0.5 * i, "cry",
            rate=8000 if i % 2 else 16000)
    add("cry_adult", "adult:1", "synth_adult", 3.0, "cry")
    add("speech", "spk:1", "synth_speech", 1.5, "speech")
    add("speech", "home:a", "synth_speech", 2.5, "speech")   # same group as some cries
    add("noise", "freesound:42", "synth_noise", 4.0, "noise")
    add("noise", "freesound-42", "synth_noise2", 3.0, "noise")  # the same recording
    add("music", "mus:1", "synth_music", 5.0, "music")
    add("home_noncry", "home:b", "synth_home", 3.0, "noise")
    add("home_noncry", "home:c", "synth_home", 3.0, "noise")
    add("cat", "freesound:42", "synth_cat", 2.0, "cry")
    add("other", "low", "synth_low", 1.0, "noise", rate=5000)   # skipped (5 kHz)
    with open(os.path.join(root, "manifest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=A.MANIFEST_COLS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return rows


def run_tool(root, out, jobs, extra=()):
    cmd = [sys.executable, os.path.join(HERE, "augment.py"), "--manifest",
           os.path.join(root, "manifest.csv"), "--data-root", root, "--out", out,
           "--seed", "1", "--copies", "3", "--jobs", str(jobs)] + list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stderr


def dir_bytes(d):
    return {f: open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))}


def test_tool(tmp):
    root = os.path.join(tmp, "data")
    rows = make_dataset(root)
    group_of = {r["path"]: r["group"] for r in rows}
    o1, o2, o3 = (os.path.join(tmp, d) for d in ("out1", "out2", "out3"))
    run_tool(root, o1, 1)
    run_tool(root, o2, 2)
    b1, b2 = dir_bytes(o1), dir_bytes(o2)
    assert b1.keys() == b2.keys() and all(b1[k] == b2[k] for k in b1), "jobs 1 != jobs 2"
    with open(os.path.join(o1, "manifest.csv"), newline="") as f:
        man = list(csv.DictReader(f))
    assert len(man) == 3 * (len(rows) - 1), len(man)              # the 5 kHz clip skipped
    assert len(b1) == len(man) + 1
    assert list(man[0].keys()) == A.MANIFEST_COLS + A.EXTRA_COLS
    steps = set()
    for m in man:
        src = next(r for r in rows if r["path"] == m["aug_of"])
        assert m["group"] == src["group"] and m["source"] == src["source"]
        assert m["label"] == src["label"] and m["licence"] == src["licence"]
        assert m["sample_rate"] == "16000"
        y = np.frombuffer(subprocess.run(
            ["ffmpeg", "-v", "error", "-err_detect", "crccheck+explode", "-i",
             os.path.join(o1, m["path"]), "-f", "s16le", "-"], capture_output=True,
            check=True).stdout, "<i2")
        assert len(y) == round(float(m["duration_s"]) * SR)
        assert abs(len(y) / SR - float(src["duration_s"])) < 2e-3
        for part in m["chain"].split(";"):
            steps.add(part.split("=")[0].split(":")[0])
            if part.startswith("codec="):
                steps.add(part)
            if part.startswith("bed="):
                bed = part[4:].rsplit("@", 1)[0]
                assert A.group_key(group_of[bed]) != A.group_key(m["group"]), (m, bed)
                assert m["bed_source"] == next(r["source"] for r in rows if r["path"] == bed)
    print("tool: %d outputs, steps seen: %s" % (len(man), ", ".join(sorted(steps))))
    for s in ("rir", "bed", "tilt", "gain", "agc", "codec"):
        assert s in steps, (s, steps)
    # cache: a rerun computes nothing and changes nothing
    mt = {f: os.stat(os.path.join(o1, f)).st_mtime_ns for f in os.listdir(o1)
          if f.endswith(".flac")}
    err = run_tool(root, o1, 1)
    assert "%d cached, 0 to compute" % len(man) in err, err
    assert dir_bytes(o1) == b1
    assert all(os.stat(os.path.join(o1, f)).st_mtime_ns == t for f, t in mt.items())
    # cache survives a lost manifest (rows are read back from the files' tags)
    os.remove(os.path.join(o1, "manifest.csv"))
    err = run_tool(root, o1, 1)
    assert "0 to compute" in err and dir_bytes(o1) == b1, err
    # a --labels subset gives the same files for its clips
    run_tool(root, o3, 1, ["--labels", "cry_adult,cat"])
    b3 = dir_bytes(o3)
    assert len(b3) == 1 + 3 * 2
    assert all(b3[k] == b1[k] for k in b3 if k.endswith(".flac"))
    # another seed gives other chains
    o4 = os.path.join(tmp, "out4")
    p = subprocess.run([sys.executable, os.path.join(HERE, "augment.py"), "--manifest",
                        os.path.join(root, "manifest.csv"), "--data-root", root, "--out", o4,
                        "--seed", "2", "--copies", "3", "--labels", "cry_adult,cat"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert not (set(os.listdir(o4)) - {"manifest.csv"}) & set(b3)
    print("determinism (jobs 1 = jobs 2 = subset, byte for byte) and cache: ok")


def main():
    tmp = tempfile.mkdtemp(prefix="test-augment-")
    try:
        test_rir_rt60()
        test_agc()
        test_mix_snr()
        test_flac_writer(tmp)
        test_codecs_short(tmp)
        test_tool(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_augment: all checks passed")


if __name__ == "__main__":
    main()
