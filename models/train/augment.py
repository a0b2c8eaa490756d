#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seeded, cached augmented copies of labelled clips (issue 13, part 2).

    python3 models/train/augment.py --manifest M --data-root R --out CACHE_DIR \
        --seed 1 --copies 2 [--labels cry_infant,cry_adult,...] [--jobs 2] [--prune]

Writes CACHE_DIR/<name>.flac (16 kHz mono, 16 bit) and CACHE_DIR/manifest.csv with the
shared manifest's columns (path relative to CACHE_DIR; label, group, source, source_repo,
licence, original_path and note of the ORIGINAL clip; duration_s and sample_rate of the
written file) plus `bed_source` (source of the bed mixed in, empty if none), `chain` (what
was applied, in order, with its parameters) and `aug_of` (the original clip's path in M).
Runs on Debian's python3 + python3-numpy and ffmpeg; no scipy.

Chain, in the order applied (a physical order: the room, then what the microphone hears,
then the phone's processing, then its codec). Each step is drawn with its probability, and
every random number of every step is drawn whether the step applies or not, so changing
one probability does not reshuffle the others.

 step   p     range                                    why / source
 rir    0.50  shoebox floor 2-6 m x 2-6 m, height      ranges of issue 13 (rooms ~2-6 m,
              2.3-3.0 m (homes), RT60 0.2-0.8 s,       RT60 0.2-0.8 s, 0.5-3 m); home ceilings
              source-mic 0.5-3 m, both >= 0.3 m from   instead of 2-6 m heights. Method: image
              walls                                    sources (Allen & Berkley 1979, JASA 65)
                                                       up to 3rd order + exponentially decaying
                                                       low-passed Gaussian noise tail whose
                                                       level follows statistical room acoustics
                                                       (reverberant energy 4*pi*c*r^2/V per s,
                                                       decaying 60 dB per RT60: gives the usual
                                                       critical distance 0.057*sqrt(V/RT60));
                                                       wall absorption from Eyring's formula.
                                                       Direct path = unit impulse at lag 0.
 bed    0.60  noise 35 %, speech 25 %, music 15 %,     SNR range of issue 13; x-vector style
              home_noncry (TV / room tone) 25 %;       recipes mix MUSAN noise at 0-15 dB,
              SNR -5..+20 dB uniform                   music 5-15, babble 13-20 (Snyder et al.
                                                       2018, ICASSP). Weights: our choice.
              SNR = clip's active power (20 ms frames within 25 dB of the 95th-percentile
              frame) over the bed's mean power over the mixed stretch. A bed is never from the
              clip's group (freesound:N and freesound-N count as one group), is >= 1 s long,
              is drawn by category, then source (uniform, so 2,500 spoken digits of one corpus
              do not swamp speech), then clip; it is cropped at a random offset or looped
              with 10 ms cross-fades to the clip's length.
 tilt   0.50  -3..+3 dB/octave about 1 kHz, flat       issue 13's range: microphone and
              below 100 Hz and above 7 kHz             placement colour (phone MEMS mics,
                                                       a hand, a pocket). Zero-phase, FFT.
 gain   1.00  -20..+6 dB                               issue 13; limited so the peak stays
                                                       <= -0.5 dBFS (no clipping is modelled);
                                                       the chain shows the gain applied.
 agc    0.35  AGC target -23..-17 dBFS, attack 50 ms,  phone recorder AGC + compressor
              release 1-2 s, gain -25..+30 dB, held    (issue 13: a loud continuous crying
              while input < -60 dBFS; then compressor  bout then varies by a few dB over
              threshold target-30 dB, ratio 4-8:1,     seconds). Values from the brief; the
              attack 5 ms, release 100 ms, make-up so  low threshold + make-up is what
              target maps to target, 1:2 expander 20   flattens the pauses between cry units.
              dB below threshold (room hiss is not
              raised without bound)
 codec  0.50  gsm 30 % (8 kHz, 300-3400 Hz, GSM        phone codecs of issue 13. Debian's
              06.10 full rate, 13 kbit/s), opus-nb 20  ffmpeg has no AMR-NB encoder, so GSM
              % (8 kbit/s, 4 kHz band, 300-3400 Hz),   06.10 full rate (ETSI, 13 kbit/s, the
              opus-wb 25 % (16 kbit/s, 8 kHz band,     same 8 kHz narrow-band telephone
              100-7000 Hz), mp3 25 % (32 kbit/s LAME   channel; AMR-NB's top mode is 12.2
              at 16 kHz)                               kbit/s) stands in for it. Band edges:
                                                       ITU-T G.712 (300-3400 Hz) and G.722
                                                       (wideband 50-7000 Hz; 100 Hz for a
                                                       phone microphone). Opus: RFC 6716.
 limit  -     if the decoded codec output peaks above -0.1 dBFS it is scaled to -0.5 dBFS
              ("limit=-x.xdB" in the chain); then 16-bit rounding, no dither.

Determinism: each (clip, copy) draws from its own numpy PCG64 seeded with
sha256("crymeter-aug|seed|path|copy"), never from processing order, so --jobs and batching
change nothing. Outputs are bit-identical for the same inputs, seed, numpy and ffmpeg.
Cache: the output name carries a hash of the plan (all parameters drawn), the SHA-1 of the
clip's and the bed's files, AUG_VERSION and the numpy and ffmpeg versions; an existing file
of that name is not recomputed: its manifest row is read back from the FLAC's own tag
CRYMETER_AUG (so an interrupted run resumes). Files of other plans in CACHE_DIR are left
alone and counted; --prune deletes them.
Speed: ffmpeg is started once per batch of up to 64 clips (decode; codec encode; codec
decode), not once per clip: one start costs ~0.2 s on the shared machine. FLAC files are
written by a small encoder here (flac_bytes), for the same reason.
"""
import argparse
import csv
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:  # a pyenv/venv python without numpy: use Debian's, which has it
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

AUG_VERSION = 1
SR = 16000
C_SOUND = 343.0

P_STEP = {"rir": 0.50, "bed": 0.60, "tilt": 0.50, "gain": 1.00, "agc": 0.35, "codec": 0.50}
BED_CATS = [("noise", 0.35), ("speech", 0.25), ("music", 0.15), ("home_noncry", 0.25)]
CODECS = [("gsm", 0.30), ("opus-nb", 0.20), ("opus-wb", 0.25), ("mp3", 0.25)]
BED_MIN_S = 1.0
SKIP_MIN_RATE = 8000          # clips recorded below this rate are skipped (the 5 kHz one)
BATCH = 64                    # clips per ffmpeg start, at most
BATCH_AUDIO_S = 600.0         # seconds of audio per batch, at most (memory)

# ffmpeg output options per codec, and the band the "microphone" passes before it.
CODEC_ENC = {
    "gsm": (["-ar", "8000", "-c:a", "libgsm", "-f", "gsm"], "gsm", (300.0, 3400.0)),
    "opus-nb": (["-c:a", "libopus", "-b:a", "8000", "-application", "voip", "-cutoff",
                 "4000", "-f", "ogg"], "ogg", (300.0, 3400.0)),
    "opus-wb": (["-c:a", "libopus", "-b:a", "16000", "-application", "voip", "-cutoff",
                 "8000", "-f", "ogg"], "ogg", (100.0, 7000.0)),
    "mp3": (["-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"], "mp3", None),
}

MANIFEST_COLS = ["path", "label", "group", "duration_s", "sample_rate", "source",
                 "source_repo", "licence", "original_path", "note"]
EXTRA_COLS = ["bed_source", "chain", "aug_of"]


def log(msg):
    print("augment: " + msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- signal steps

def db(x):
    return 10.0 * math.log10(max(x, 1e-30))


def next_pow2(n):
    return 1 << max(0, int(n - 1).bit_length())


def fft_convolve(x, h):
    """Linear convolution, cropped to len(x)."""
    n = len(x)
    m = next_pow2(n + len(h) - 1)
    y = np.fft.irfft(np.fft.rfft(x, m) * np.fft.rfft(h, m), m)
    return y[:n]


def zero_phase_filter(x, gain_of_f, pad=4096):
    """Apply a real, zero-phase frequency response gain_of_f(f_hz) (vectorised)."""
    n = len(x)
    m = next_pow2(n + pad)
    f = np.fft.rfftfreq(m, 1.0 / SR)
    y = np.fft.irfft(np.fft.rfft(x, m) * gain_of_f(f), m)
    return y[:n]


def eyring_absorption(dims, rt60):
    lx, ly, lz = dims
    v = lx * ly * lz
    s = 2.0 * (lx * ly + lx * lz + ly * lz)
    return 1.0 - math.exp(-0.161 * v / (s * rt60)), v, s


def make_rir(dims, mic, src, rt60, tail_seed, tail_lp_hz=5000.0, max_order=3):
    """Room impulse response at SR, direct path = 1.0 at lag 0.

    Early part: image sources (Allen & Berkley 1979) up to max_order reflections, each
    beta^k * r_direct / r_image, at its delay after the direct path (linear interpolation
    between two taps). Tail: Gaussian noise, low-passed (one pole at tail_lp_hz), with energy
    per second 4*pi*c*r^2/V * exp(-13.8 t / RT60) (t from emission; r = direct distance,
    which normalises the direct path to 1), faded in over the early reflections.
    """
    alpha, v, s = eyring_absorption(dims, rt60)
    beta = math.sqrt(1.0 - alpha)
    mic = np.asarray(mic, float)
    src = np.asarray(src, float)
    r_d = float(np.linalg.norm(src - mic))
    t_d = r_d / C_SOUND
    n = int(math.ceil(rt60 * 1.1 * SR)) + 1
    h = np.zeros(n)

    # image sources: coordinate (1-2p)*s + 2*n*L, reflections |2n - p| per axis
    axes = []
    for a in range(3):
        pos, refl = [], []
        for nn in range(-max_order, max_order + 1):
            for p in (0, 1):
                k = abs(2 * nn - p)
                if k <= max_order:
                    pos.append((1 - 2 * p) * src[a] + 2 * nn * dims[a])
                    refl.append(k)
        axes.append((np.array(pos), np.array(refl)))
    px, kx = axes[0]
    py, ky = axes[1]
    pz, kz = axes[2]
    X = px[:, None, None]
    Y = py[None, :, None]
    Z = pz[None, None, :]
    K = kx[:, None, None] + ky[None, :, None] + kz[None, None, :]
    R = np.sqrt((X - mic[0]) ** 2 + (Y - mic[1]) ** 2 + (Z - mic[2]) ** 2)
    sel = (K <= max_order) & (K > 0)
    r_i = R[sel]
    k_i = K[sel]
    amp = beta ** k_i * (r_d / r_i)
    lag = (r_i - r_d) / C_SOUND * SR
    keep = lag < n - 2
    amp, lag = amp[keep], lag[keep]
    i0 = np.floor(lag).astype(np.int64)
    fr = lag - i0
    np.add.at(h, i0, amp * (1.0 - fr))
    np.add.at(h, i0 + 1, amp * fr)
    h[0] += 1.0

    # diffuse tail
    rng = np.random.default_rng(tail_seed)
    noise = rng.standard_normal(n)
    a1 = math.exp(-2.0 * math.pi * tail_lp_hz / SR)
    # one-pole low-pass y[i] = (1-a) x[i] + a y[i-1], via FFT of its impulse response
    ir_len = min(n, int(math.ceil(math.log(1e-6) / math.log(a1))) + 1)
    lp = (1.0 - a1) * a1 ** np.arange(ir_len)
    noise = fft_convolve(noise, lp)
    noise /= math.sqrt(float(np.mean(noise ** 2)))
    t = t_d + np.arange(n) / SR
    energy_rate = 4.0 * math.pi * C_SOUND * r_d ** 2 / v        # per second, direct = 1
    env = np.sqrt(energy_rate / SR * np.exp(-13.8155 * t / rt60))
    # fade-in: from the direct path over two mean free paths (4V/S) of travel
    mfp_s = 4.0 * v / s / C_SOUND
    t_rel = np.arange(n) / SR
    fade = np.clip(t_rel / (2.0 * mfp_s), 0.0, 1.0)
    fade = np.sin(0.5 * math.pi * fade) ** 2
    h += noise * env * fade
    return h


def schroeder_rt60(h, lo_db=-5.0, hi_db=-25.0):
    """RT60 from the Schroeder backward integral, line fit between lo_db and hi_db
    (T20 with the defaults, ISO 3382)."""
    e = np.cumsum((h ** 2)[::-1])[::-1]
    edc = 10.0 * np.log10(e / e[0] + 1e-300)
    idx = np.where((edc <= lo_db) & (edc >= hi_db))[0]
    t = idx / SR
    slope, _ = np.polyfit(t, edc[idx], 1)
    return -60.0 / slope


def frame_power(x, frame=320):
    nf = len(x) // frame
    if nf == 0:
        return np.array([float(np.mean(x ** 2))]) if len(x) else np.array([0.0])
    return np.mean(x[: nf * frame].reshape(nf, frame) ** 2, axis=1)


def active_power(x, frame=320, below_db=25.0):
    """Mean power of the active part: 20 ms frames within below_db of the 95th-percentile
    frame (and above -100 dBFS)."""
    p = frame_power(x, frame)
    ref = float(np.percentile(p, 95))
    if ref <= 1e-10:
        return float(np.mean(x ** 2)) if len(x) else 0.0
    act = p[p >= max(ref * 10 ** (-below_db / 10.0), 1e-10)]
    return float(np.mean(act))


def loop_to(b, n, start, xfade=160):
    """n samples of b from start, looping with cross-fades when b is shorter than n."""
    L = len(b)
    if L >= n:
        s0 = min(start, L - n)
        return b[s0:s0 + n].copy()
    xf = min(xfade, L // 4)
    out = np.zeros(n + L)
    seg = np.concatenate([b[start:], b[:start]])
    pos = 0
    w_in = np.sin(0.5 * math.pi * (np.arange(xf) + 0.5) / xf) ** 2 if xf else None
    first = True
    while pos < n:
        piece = seg.copy()
        if xf and not first:
            piece[:xf] *= w_in
        if xf:
            piece[-xf:] *= w_in[::-1]
        out[pos:pos + L] += piece
        pos += L - xf
        first = False
    return out[:n]


def mix_bed(x, bed_seg, snr_db):
    """Scale bed_seg so active_power(x) / mean(bed^2) = snr_db; return (mix, gain)."""
    ps = active_power(x)
    pb = float(np.mean(bed_seg ** 2))
    if ps <= 1e-12 or pb <= 1e-14:
        return x, None
    g = math.sqrt(ps / (pb * 10 ** (snr_db / 10.0)))
    return x + g * bed_seg, g


def tilt_response(db_per_oct, f_lo=100.0, f_hi=7000.0, pivot=1000.0):
    def g(f):
        fc = np.clip(f, f_lo, f_hi)
        return 10 ** (db_per_oct * np.log2(fc / pivot) / 20.0)
    return g


def band_response(lo, hi, rel_width=0.15):
    """1 in [lo, hi], raised-cosine fades of rel_width*edge outside, 0 beyond."""
    def g(f):
        out = np.ones_like(f)
        if lo:
            w = lo * rel_width
            u = np.clip((f - (lo - w)) / w, 0.0, 1.0)
            out *= np.sin(0.5 * math.pi * u) ** 2
        if hi:
            w = hi * rel_width
            u = np.clip(((hi + w) - f) / w, 0.0, 1.0)
            out *= np.sin(0.5 * math.pi * u) ** 2
        return out
    return g


def _smooth_db(levels, a_att, a_rel, gate_db=None, init=None):
    """Asymmetric one-pole smoothing of frame levels in dB (attack when rising)."""
    out = [0.0] * len(levels)
    y = levels[0] if init is None else init
    for i, l in enumerate(levels):
        if l > y:
            y = a_att * y + (1.0 - a_att) * l
        elif gate_db is None or l >= gate_db:
            y = a_rel * y + (1.0 - a_rel) * l
        out[i] = y
    return out


def _frame_gain_to_samples(g_db, hop, n):
    """Per-frame gains (dB, one per frame centre) to per-sample linear gains."""
    centres = (np.arange(len(g_db)) + 0.5) * hop
    gs = np.interp(np.arange(n), centres, np.asarray(g_db))
    return 10 ** (gs / 20.0)


def agc_compress(x, target_db=-20.0, att_s=0.05, rel_s=1.5, ratio=6.0,
                 g_min=-25.0, g_max=30.0, gate_db=-60.0,
                 c_att_s=0.005, c_rel_s=0.1, hop=80):
    """Phone-recorder AGC (slow) followed by a compressor (fast), on 5 ms frames."""
    n = len(x)
    if n == 0:
        return x
    nf = (n + hop - 1) // hop
    xp = np.zeros(nf * hop)
    xp[:n] = x
    lev = (10 * np.log10(np.mean(xp.reshape(nf, hop) ** 2, axis=1) + 1e-12)).tolist()
    fs = SR / hop
    a_att, a_rel = math.exp(-1 / (att_s * fs)), math.exp(-1 / (rel_s * fs))
    # start from the first 0.5 s's loudest frame, as a recorder that has been running
    init = max(lev[: max(1, int(0.5 * fs))])
    L = _smooth_db(lev, a_att, a_rel, gate_db, init=max(init, gate_db))
    g1 = [min(g_max, max(g_min, target_db - l)) for l in L]
    y = x * _frame_gain_to_samples(g1, hop, n)

    thr = target_db - 30.0
    makeup = (target_db - thr) * (1.0 - 1.0 / ratio)
    exp_knee = thr - 20.0
    yp = np.zeros(nf * hop)
    yp[:n] = y
    lev2 = (10 * np.log10(np.mean(yp.reshape(nf, hop) ** 2, axis=1) + 1e-12)).tolist()
    c_att, c_rel = math.exp(-1 / (c_att_s * fs)), math.exp(-1 / (c_rel_s * fs))
    L2 = _smooth_db(lev2, c_att, c_rel)
    g2 = []
    for l in L2:
        if l >= thr:
            g = (thr - l) * (1.0 - 1.0 / ratio)
        elif l < exp_knee:
            g = max(-40.0, -(exp_knee - l))      # 1:2 downward expansion
        else:
            g = 0.0
        g2.append(g + makeup)
    return y * _frame_gain_to_samples(g2, hop, n)


# ----------------------------------------------------------------------------- ffmpeg

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]


def run_ffmpeg(args):
    p = subprocess.run(FFMPEG + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("ffmpeg failed: " + p.stderr.decode("utf-8", "replace")[-2000:])


def ffmpeg_batch(jobs):
    """jobs: list of (input_args, output_args, out_path). One ffmpeg for all; if it fails,
    each job alone, and the failing ones are returned (their outputs are missing)."""
    if not jobs:
        return []
    args = []
    for inp, _, _ in jobs:
        args += inp
    for i, (_, outa, outp) in enumerate(jobs):
        args += ["-map", "%d:a:0" % i] + outa + [outp]
    try:
        run_ffmpeg(args)
        return []
    except RuntimeError:
        failed = []
        for inp, outa, outp in jobs:
            try:
                run_ffmpeg(inp + ["-map", "0:a:0"] + outa + [outp])
            except RuntimeError as e:
                failed.append((outp, str(e)))
        return failed


def ffmpeg_version():
    p = subprocess.run(["ffmpeg", "-version"], stdout=subprocess.PIPE, check=True)
    return p.stdout.decode().splitlines()[0]


RAW_IN = ["-f", "f32le", "-ar", str(SR), "-ac", "1"]
RAW_OUT = ["-f", "f32le", "-ac", "1", "-ar", str(SR)]


def decode_many(paths, tmp):
    """{path: float32 array at 16 kHz mono}; missing entries for files that failed."""
    jobs, outs = [], {}
    for i, p in enumerate(paths):
        o = os.path.join(tmp, "dec%04d.f32" % i)
        outs[p] = o
        jobs.append((["-i", p], RAW_OUT, o))
    failed = {o for o, _ in ffmpeg_batch(jobs)}
    res = {}
    for p, o in outs.items():
        if o not in failed and os.path.exists(o):
            res[p] = np.fromfile(o, dtype="<f4").astype(np.float64)
            os.remove(o)
    return res


# ----------------------------------------------------------------------------- planning

def group_key(g):
    m = re.match(r"^freesound[-:_]?(\d+)$", g.strip().lower())
    return "freesound:" + m.group(1) if m else g.strip()


def clip_rng(seed, path, copy):
    h = hashlib.sha256(("crymeter-aug|%d|%s|%d" % (seed, path, copy)).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:16], "little"))


def weighted_choice(u, items):
    acc = 0.0
    for name, w in items:
        acc += w
        if u < acc:
            return name
    return items[-1][0]


def place_in_room(rng, dims, dist, margin=0.3):
    """Mic anywhere (>= margin from walls, 0.7-1.8 m high); source at dist in a random
    direction (elevation within +-30 deg); if no direction fits in 64 draws the distance
    shrinks by 10 % and it tries again."""
    lo = np.array([margin, margin, 0.7])
    hi = np.array([dims[0] - margin, dims[1] - margin, min(1.8, dims[2] - margin)])
    mic = lo + rng.random(3) * (hi - lo)
    d = dist
    lo_s = np.full(3, margin)
    hi_s = np.array(dims) - margin
    for _ in range(40):
        az = rng.random(64) * 2 * math.pi
        el = (rng.random(64) - 0.5) * (math.pi / 3)
        v = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)
        cand = mic + d * v
        ok = np.all((cand >= lo_s) & (cand <= hi_s), axis=1)
        if ok.any():
            return mic, cand[int(np.argmax(ok))], d
        d *= 0.9
    return mic, mic + np.array([0.3, 0.0, 0.0]), 0.3


class BedPool:
    def __init__(self, rows):
        self.by_cat = {}
        for r in rows:
            if r["label"] in dict(BED_CATS) and float(r["duration_s"]) >= BED_MIN_S:
                self.by_cat.setdefault(r["label"], []).append(r)
        for v in self.by_cat.values():
            v.sort(key=lambda r: r["path"])

    def choose(self, u_cat, u_src, u_clip, clip_group):
        cat = weighted_choice(u_cat, BED_CATS)
        order = [cat] + [c for c, _ in BED_CATS if c != cat]
        gk = group_key(clip_group)
        for c in order:
            cand = [r for r in self.by_cat.get(c, []) if group_key(r["group"]) != gk]
            if not cand:
                continue
            srcs = sorted({r["source"] for r in cand})
            s = srcs[min(int(u_src * len(srcs)), len(srcs) - 1)]
            cs = [r for r in cand if r["source"] == s]
            return cs[min(int(u_clip * len(cs)), len(cs) - 1)]
        return None


def make_plan(row, copy, seed, pool):
    """Every parameter of one augmented copy, drawn in a fixed order."""
    rng = clip_rng(seed, row["path"], copy)
    u = rng.random(6)                                # apply flags, in P_STEP order
    flags = {k: bool(u[i] < p) for i, (k, p) in enumerate(P_STEP.items())}
    plan = {"v": AUG_VERSION}
    # rir
    dims = [2.0 + 4.0 * rng.random(), 2.0 + 4.0 * rng.random(), 2.3 + 0.7 * rng.random()]
    rt60 = 0.2 + 0.6 * rng.random()
    dist = 0.5 + 2.5 * rng.random()
    lp = 3000.0 + 4000.0 * rng.random()
    tail_seed = int(rng.integers(0, 2 ** 62))
    prng = np.random.default_rng(int(rng.integers(0, 2 ** 62)))
    mic, src, dist_used = place_in_room(prng, dims, dist)
    if flags["rir"]:
        plan["rir"] = {"dims": [round(d, 3) for d in dims], "rt60": round(rt60, 3),
                       "dist": round(dist_used, 3), "mic": [round(c, 3) for c in mic],
                       "src": [round(c, 3) for c in src], "tail_lp": round(lp, 1),
                       "tail_seed": tail_seed}
    # bed
    ub = rng.random(4)
    snr = -5.0 + 25.0 * rng.random()
    if flags["bed"]:
        bed = pool.choose(ub[0], ub[1], ub[2], row["group"])
        if bed is not None:
            plan["bed"] = {"path": bed["path"], "source": bed["source"],
                           "offset_u": round(float(ub[3]), 6), "snr": round(snr, 2)}
    # tilt
    tilt = -3.0 + 6.0 * rng.random()
    if flags["tilt"]:
        plan["tilt"] = round(tilt, 2)
    # gain
    gain = -20.0 + 26.0 * rng.random()
    if flags["gain"]:
        plan["gain"] = round(gain, 2)
    # agc
    ua = rng.random(3)
    if flags["agc"]:
        plan["agc"] = {"target": round(-23.0 + 6.0 * ua[0], 2),
                       "rel": round(1.0 + ua[1], 3), "ratio": round(4.0 + 4.0 * ua[2], 2)}
    # codec
    uc = rng.random()
    if flags["codec"]:
        plan["codec"] = weighted_choice(uc, CODECS)
    return plan


def file_sha1(path, memo):
    if path not in memo:
        h = hashlib.sha1()
        with open(path, "rb") as f:
            for blk in iter(lambda: f.read(1 << 20), b""):
                h.update(blk)
        memo[path] = h.hexdigest()
    return memo[path]


def out_name(row, copy, key):
    p = row["path"]
    if p.startswith("audio/"):
        p = p[len("audio/"):]
    p = re.sub(r"\.[A-Za-z0-9]+$", "", p)
    p = re.sub(r"[^A-Za-z0-9._-]+", "_", p.replace("/", "__"))
    return "%s.a%d.%s.flac" % (p, copy, key[:12])



# ----------------------------------------------------------------------------- FLAC writer
# A small FLAC encoder (fixed predictors of order 0-4, one Rice partition per subframe,
# constant and verbatim subframes; 4096-sample blocks): starting ffmpeg to write each file
# cost more than all the signal processing. Checked by test_augment.py against ffmpeg's
# decoder with CRC checking on, and sox (libFLAC).

FLAC_BLOCK = 4096


def _crc16_table(max_bytes):
    """T[e] = x^(e+16) mod (x^16+x^15+x^2+1): the CRC-16 of FLAC is XOR of T[e] over the
    set bits of the message, e = 8*(bytes after the bit's byte) + bit index (LSB = 0)."""
    t = np.zeros(8 * max_bytes, dtype=np.uint16)
    v = 0x8005
    for e in range(8 * max_bytes):
        t[e] = v
        v = ((v << 1) ^ (0x8005 if v & 0x8000 else 0)) & 0xFFFF
    return t


_CRC16_T = None


def crc16(data):
    global _CRC16_T
    if _CRC16_T is None:
        _CRC16_T = _crc16_table(2 * FLAC_BLOCK + 64)
    b = np.frombuffer(data, dtype=np.uint8)
    bits = np.unpackbits(b, bitorder="little")
    e = (8 * (len(b) - 1 - np.arange(len(b))))[:, None] + np.arange(8)[None, :]
    sel = e.ravel()[bits.astype(bool)]
    if len(sel) == 0:
        return 0
    return int(np.bitwise_xor.reduce(_CRC16_T[sel]))


def crc8(data):
    c = 0
    for byte in data:
        c ^= byte
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def _pack_bits(vals, widths):
    """Concatenate fields (value, width in bits, MSB first), zero-padded to bytes."""
    vals = np.asarray(vals, dtype=np.uint64)
    widths = np.asarray(widths, dtype=np.int64)
    total = int(widths.sum())
    starts = np.cumsum(widths) - widths
    idx = np.repeat(np.arange(len(widths)), widths)
    off = np.arange(total) - starts[idx]
    shift = (widths[idx] - 1 - off).astype(np.uint64)
    bits = ((vals[idx] >> shift) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bits).tobytes()


def _utf8_num(v):
    if v < 0x80:
        return bytes([v])
    for n in range(2, 7):
        if v < (1 << (5 * n + 1)):
            out = [((0xFF << (8 - n)) & 0xFF) | (v >> (6 * (n - 1)))]
            for i in range(1, n):
                out.append(0x80 | ((v >> (6 * (n - 1 - i))) & 0x3F))
            return bytes(out)
    raise ValueError("frame number too large")


def _subframe(x):
    """Fields (values, widths) of the best simple subframe for int64 samples x."""
    n = len(x)
    if n and np.all(x == x[0]):
        return [0b00000000, int(x[0]) & 0xFFFF], [8, 16]
    best = None
    if n >= 16:
        for order in range(5):
            r = np.diff(x, order) if order else x
            cost = int(np.abs(r).sum())
            if best is None or cost < best[0]:
                best = (cost, order, r)
    if best is not None:
        _, order, r = best
        u = np.where(r >= 0, 2 * r, -2 * r - 1).astype(np.int64)
        m = float(u.mean()) if len(u) else 0.0
        k0 = int(math.floor(math.log2(m + 1.0))) if m > 0 else 0
        choice = None
        for k in range(max(0, k0 - 1), min(14, k0 + 1) + 1):
            bits = int((u >> k).sum()) + len(u) * (k + 1)
            if choice is None or bits < choice[0]:
                choice = (bits, k)
        bits, k = choice
        q = u >> k
        if int(q.max()) + 1 + k <= 56 and bits + 16 * order + 18 < 16 * n:
            vals = [0b00010000 | (order << 1)] + [int(s) & 0xFFFF for s in x[:order]]
            widths = [8] + [16] * order
            vals += [0, 0, k]           # rice coding, partition order 0, parameter k
            widths += [2, 4, 4]
            rv = (np.uint64(1) << np.uint64(k)) | (u.astype(np.uint64) &
                                                   np.uint64((1 << k) - 1))
            rw = q + 1 + k
            return (np.concatenate([np.array(vals, dtype=np.uint64), rv]),
                    np.concatenate([np.array(widths, dtype=np.int64), rw]))
    return ([0b00000010] + [int(s) & 0xFFFF for s in x]), ([8] + [16] * n)


def flac_bytes(q, tags=None, vendor="crymeter augment"):
    """A complete 16-bit mono FLAC file at SR of int16 samples q, with Vorbis comments."""
    q = np.asarray(q, dtype="<i2")
    n = len(q)
    md5 = hashlib.md5(q.tobytes()).digest()
    sr_code = {8000: 0b0100, 16000: 0b0101, 22050: 0b0110, 24000: 0b0111,
               32000: 0b1000, 44100: 0b1001, 48000: 0b1010}[SR]
    si = FLAC_BLOCK.to_bytes(2, "big") * 2 + b"\0\0\0" * 2
    si += ((SR << 44) | (0 << 41) | (15 << 36) | n).to_bytes(8, "big") + md5
    vc = len(vendor.encode()).to_bytes(4, "little") + vendor.encode()
    items = ["%s=%s" % kv for kv in (tags or {}).items()]
    vc += len(items).to_bytes(4, "little")
    for it in items:
        b = it.encode("utf-8")
        vc += len(b).to_bytes(4, "little") + b
    out = [b"fLaC", bytes([0]) + len(si).to_bytes(3, "big") + si,
           bytes([0x80 | 4]) + len(vc).to_bytes(3, "big") + vc]
    x = q.astype(np.int64)
    for fi, s0 in enumerate(range(0, n, FLAC_BLOCK)):
        blk = x[s0:s0 + FLAC_BLOCK]
        bs = len(blk)
        if bs == FLAC_BLOCK:
            bs_code, bs_extra = 0b1100, b""
        else:
            bs_code, bs_extra = 0b0111, (bs - 1).to_bytes(2, "big")
        hdr = bytes([0xFF, 0xF8, (bs_code << 4) | sr_code, (0b0000 << 4) | (0b100 << 1)])
        hdr += _utf8_num(fi) + bs_extra
        hdr += bytes([crc8(hdr)])
        vals, widths = _subframe(blk)
        frame = hdr + _pack_bits(vals, widths)
        out.append(frame + crc16(frame).to_bytes(2, "big"))
    return b"".join(out)


# ----------------------------------------------------------------------------- FLAC tag

def read_flac_tag(path, key="CRYMETER_AUG"):
    """The value of one Vorbis comment of a FLAC file, or None."""
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"fLaC":
                return None
            while True:
                hdr = f.read(4)
                if len(hdr) < 4:
                    return None
                last, typ = hdr[0] & 0x80, hdr[0] & 0x7F
                ln = int.from_bytes(hdr[1:4], "big")
                if typ != 4:
                    f.seek(ln, 1)
                else:
                    blk = f.read(ln)
                    vl = int.from_bytes(blk[0:4], "little")
                    pos = 4 + vl
                    cnt = int.from_bytes(blk[pos:pos + 4], "little")
                    pos += 4
                    for _ in range(cnt):
                        cl = int.from_bytes(blk[pos:pos + 4], "little")
                        kv = blk[pos + 4:pos + 4 + cl].decode("utf-8", "replace")
                        pos += 4 + cl
                        k, _, v = kv.partition("=")
                        if k.upper() == key:
                            return v
                if last:
                    return None
    except OSError:
        return None


# ----------------------------------------------------------------------------- processing

def fmt_plan_part(step, p):
    if step == "rir":
        d = p["dims"]
        return "rir:room=%.1fx%.1fx%.1f,rt60=%.2f,dist=%.2f" % (d[0], d[1], d[2], p["rt60"],
                                                                p["dist"])
    if step == "tilt":
        return "tilt=%+.1fdB/oct" % p
    if step == "agc":
        return "agc:target=%.1f,rel=%.2fs,ratio=%.1f" % (p["target"], p["rel"], p["ratio"])
    if step == "codec":
        return "codec=" + p
    raise ValueError(step)


def process_pre(x, plan, beds):
    """Steps before the codec. Returns (signal, chain parts, bed_source)."""
    chain, bed_source = [], ""
    if "rir" in plan:
        r = plan["rir"]
        h = make_rir(r["dims"], r["mic"], r["src"], r["rt60"], r["tail_seed"], r["tail_lp"])
        x = fft_convolve(x, h)
        chain.append(fmt_plan_part("rir", r))
    if "bed" in plan:
        b = plan["bed"]
        bed = beds.get(b["path"])
        if bed is None or len(bed) == 0:
            chain.append("bed=unreadable")
        else:
            start = min(int(b["offset_u"] * len(bed)), len(bed) - 1)
            if len(bed) >= len(x):
                start = int(b["offset_u"] * (len(bed) - len(x) + 1))
            seg = loop_to(bed, len(x), start)
            x2, g = mix_bed(x, seg, b["snr"])
            if g is None:
                chain.append("bed=skipped(silent)")
            else:
                x = x2
                bed_source = b["source"]
                chain.append("bed=%s@%.1fdB" % (b["path"], b["snr"]))
    if "tilt" in plan:
        x = zero_phase_filter(x, tilt_response(plan["tilt"]))
        chain.append(fmt_plan_part("tilt", plan["tilt"]))
    if "gain" in plan:
        peak = float(np.max(np.abs(x))) if len(x) else 0.0
        g = plan["gain"]
        if peak > 0:
            g_max = -0.5 - 20 * math.log10(peak)
            if g > g_max:
                g = g_max
        x = x * 10 ** (g / 20.0)
        if g != plan["gain"]:
            chain.append("gain=%+.1f(asked %+.1f)" % (g, plan["gain"]))
        else:
            chain.append("gain=%+.1f" % g)
    if "agc" in plan:
        a = plan["agc"]
        x = agc_compress(x, target_db=a["target"], rel_s=a["rel"], ratio=a["ratio"])
        chain.append(fmt_plan_part("agc", a))
    if "codec" in plan:
        band = CODEC_ENC[plan["codec"]][2]
        if band is not None:
            x = zero_phase_filter(x, band_response(*band))
    return x, chain, bed_source


def finish(x, n):
    """Crop/pad to n, limit the peak, round to int16."""
    if len(x) >= n:
        x = x[:n]
    else:
        x = np.concatenate([x, np.zeros(n - len(x))])
    chain = []
    peak = float(np.max(np.abs(x))) if n else 0.0
    if peak > 10 ** (-0.1 / 20):
        g = 10 ** (-0.5 / 20) / peak
        x = x * g
        chain.append("limit=%.1fdB" % (20 * math.log10(g)))
    q = np.clip(np.round(x * 32767.0), -32767, 32767).astype("<i2")
    return q, chain


def process_batch(args):
    """Process a list of work items; returns their manifest rows (None for failures)."""
    items, data_root, out_dir, tmp_root = args
    tmp = tempfile.mkdtemp(prefix="aug-", dir=tmp_root)
    try:
        paths = []
        for it in items:
            paths.append(os.path.join(data_root, it["row"]["path"]))
            if "bed" in it["plan"]:
                paths.append(os.path.join(data_root, it["plan"]["bed"]["path"]))
        paths = sorted(set(paths))
        audio = decode_many(paths, tmp)
        beds = {}
        for it in items:
            if "bed" in it["plan"]:
                bp = it["plan"]["bed"]["path"]
                beds[bp] = audio.get(os.path.join(data_root, bp))
        work = []
        for k, it in enumerate(items):
            x = audio.get(os.path.join(data_root, it["row"]["path"]))
            if x is None:
                log("cannot decode %s: skipped" % it["row"]["path"])
                work.append(None)
                continue
            y, chain, bed_source = process_pre(x, it["plan"], beds)
            work.append({"n": len(x), "y": y, "chain": chain, "bed_source": bed_source})
        # codec round trip: one ffmpeg encodes all, one decodes all
        enc_jobs, dec_jobs = [], []
        for k, (it, w) in enumerate(zip(items, work)):
            if w is None or "codec" not in it["plan"]:
                continue
            c = it["plan"]["codec"]
            opts, ext, _ = CODEC_ENC[c]
            raw = os.path.join(tmp, "pre%04d.f32" % k)
            w["y"].astype("<f4").tofile(raw)
            enc = os.path.join(tmp, "enc%04d.%s" % (k, ext))
            dec = os.path.join(tmp, "cod%04d.f32" % k)
            enc_jobs.append((RAW_IN + ["-i", raw], opts + ["-fflags", "+bitexact",
                                                           "-flags:a", "+bitexact"], enc))
            # the format is given: ffmpeg's probe gives up on GSM files under ~0.2 s
            dec_jobs.append((["-f", ext, "-i", enc], RAW_OUT, dec))
            w["codec_out"] = dec
            w["chain"].append(fmt_plan_part("codec", c))
        failed = ffmpeg_batch(enc_jobs)
        bad = {o for o, _ in failed}
        dec_jobs = [j for j in dec_jobs if j[0][3] not in bad]
        failed += ffmpeg_batch(dec_jobs)
        for o, e in failed:
            log("ffmpeg failed for %s: %s" % (os.path.basename(o), e.strip()[-300:]))
        # final: limit, int16, FLAC with the manifest row as a tag, renamed into place
        rows = [None] * len(items)
        for k, (it, w) in enumerate(zip(items, work)):
            if w is None:
                continue
            y = w["y"]
            if "codec_out" in w:
                if not os.path.exists(w["codec_out"]):
                    log("codec failed for %s: skipped" % it["row"]["path"])
                    continue
                y = np.fromfile(w["codec_out"], dtype="<f4").astype(np.float64)
            q, lim = finish(y, w["n"])
            src = it["row"]
            row = {c: src.get(c, "") for c in MANIFEST_COLS}
            row["path"] = it["name"]
            row["duration_s"] = "%.3f" % (w["n"] / SR)
            row["sample_rate"] = str(SR)
            row["bed_source"] = w["bed_source"]
            row["chain"] = ";".join(w["chain"] + lim) or "none"
            row["aug_of"] = src["path"]
            part = os.path.join(out_dir, ".part-" + it["name"])
            with open(part, "wb") as f:
                f.write(flac_bytes(q, {"CRYMETER_AUG": json.dumps(row, sort_keys=True)}))
            os.replace(part, os.path.join(out_dir, it["name"]))
            rows[k] = row
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- main

def read_manifest(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--labels", default="", help="comma-separated labels to augment (all)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="only the first N selected clips")
    ap.add_argument("--prune", action="store_true", help="delete other plans' files in OUT")
    a = ap.parse_args(argv)

    t0 = time.time()
    rows = read_manifest(a.manifest)
    for r in rows:
        for c in MANIFEST_COLS:
            r.setdefault(c, "")
    usable = [r for r in rows
              if not (r["sample_rate"] and float(r["sample_rate"]) < SKIP_MIN_RATE)]
    skipped = [r["path"] for r in rows if r not in usable]
    for p in skipped:
        log("skipped (sample rate below %d Hz): %s" % (SKIP_MIN_RATE, p))
    pool = BedPool(usable)
    labels = {s.strip() for s in a.labels.split(",") if s.strip()}
    sel = [r for r in usable if not labels or r["label"] in labels]
    if a.limit:
        sel = sel[: a.limit]
    os.makedirs(a.out, exist_ok=True)

    env = "%d|numpy %s|%s" % (AUG_VERSION, np.__version__, ffmpeg_version())
    memo = {}
    items = []
    for r in sel:
        for c in range(1, a.copies + 1):
            plan = make_plan(r, c, a.seed, pool)
            h = hashlib.sha256()
            h.update(env.encode())
            h.update(json.dumps(plan, sort_keys=True).encode())
            h.update(file_sha1(os.path.join(a.data_root, r["path"]), memo).encode())
            if "bed" in plan:
                h.update(file_sha1(os.path.join(a.data_root, plan["bed"]["path"]),
                                   memo).encode())
            items.append({"row": r, "copy": c, "plan": plan,
                          "name": out_name(r, c, h.hexdigest())})
    log("%d clips x %d copies = %d outputs planned in %.1f s"
        % (len(sel), a.copies, len(items), time.time() - t0))

    out_rows = [None] * len(items)
    todo = []
    for i, it in enumerate(items):
        final = os.path.join(a.out, it["name"])
        tag = read_flac_tag(final) if os.path.exists(final) else None
        if tag is not None:
            try:
                out_rows[i] = json.loads(tag)
                continue
            except ValueError:
                pass
        todo.append(i)
    log("%d cached, %d to compute" % (len(items) - len(todo), len(todo)))

    tmp_root = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
        else None
    batches, cur, cur_s = [], [], 0.0
    for i in todo:
        d = float(items[i]["row"]["duration_s"] or 0.0)
        if cur and (len(cur) >= BATCH or cur_s + d > BATCH_AUDIO_S):
            batches.append(cur)
            cur, cur_s = [], 0.0
        cur.append(i)
        cur_s += d
    if cur:
        batches.append(cur)
    work = [([items[i] for i in b], a.data_root, a.out, tmp_root) for b in batches]
    done, audio_s, t1 = 0, 0.0, time.time()

    def collect(b, res):
        nonlocal done, audio_s
        for i, row in zip(b, res):
            out_rows[i] = row
            if row is not None:
                audio_s += float(row["duration_s"])
        done += len(b)
        el = time.time() - t1
        eta = el / done * (len(todo) - done)
        log("%d/%d computed, %.0f s of audio in %.0f s (%.1fx real time), eta %.0f s"
            % (done, len(todo), audio_s, el, audio_s / max(el, 1e-9), eta))

    if a.jobs > 1 and len(work) > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(a.jobs) as pool_:
            for b, res in zip(batches, pool_.imap(process_batch, work)):
                collect(b, res)
    else:
        for b, w in zip(batches, work):
            collect(b, process_batch(w))

    cols = MANIFEST_COLS + EXTRA_COLS
    tmpm = os.path.join(a.out, ".manifest.csv.part")
    with open(tmpm, "w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        wr.writeheader()
        for row in out_rows:
            if row is not None:
                wr.writerow({c: row.get(c, "") for c in cols})
    os.replace(tmpm, os.path.join(a.out, "manifest.csv"))

    wanted = {it["name"] for it in items}
    stale = [f for f in os.listdir(a.out)
             if f.endswith(".flac") and f not in wanted]
    for f in os.listdir(a.out):
        if f.startswith(".part-"):
            os.remove(os.path.join(a.out, f))
    if stale and a.prune:
        for f in stale:
            os.remove(os.path.join(a.out, f))
        log("pruned %d files of other plans" % len(stale))
    elif stale:
        log("%d files of other plans left in %s (--prune deletes them)" % (len(stale), a.out))
    failed = sum(1 for r in out_rows if r is None)
    log("done: %d rows written (%d failed), %d computed, %.1f s"
        % (len(items) - failed, failed, len(todo), time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
