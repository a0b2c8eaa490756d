# SPDX-License-Identifier: MIT
# Writes the WAV inputs of tests/cli/test_badinput.sh into DIR: headers that lie, odd
# sample values and odd shapes, built byte by byte so each file is exactly the case it names.
# Deterministic (seeded); usage: python3 badinput_gen.py DIR
import math
import os
import random
import struct
import sys

out = sys.argv[1]
rng = random.Random(14)


def wav(name, data, rate=16000, ch=1, bits=16, fmt_tag=1, data_size=None, riff_size=None,
        block_align=None):
    """A RIFF/WAVE file: fmt chunk as given, then a data chunk whose size field is
    data_size (default: the true length)."""
    ba = block_align if block_align is not None else ch * ((bits + 7) // 8)
    fmt = struct.pack("<HHIIHH", fmt_tag, ch, rate, rate * ba & 0xFFFFFFFF, ba & 0xFFFF, bits)
    ds = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", ds) + data
    rs = len(body) if riff_size is None else riff_size
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", rs) + body)


def sine(n, rate=16000, f=440.0, amp=0.3):
    return [amp * math.sin(2 * math.pi * f * i / rate) for i in range(n)]


def pcm16(xs):
    return struct.pack("<%dh" % len(xs), *[max(-32768, min(32767, int(round(x * 32767)))) for x in xs])


def f32(xs):
    return struct.pack("<%df" % len(xs), *xs)


one_s = pcm16(sine(16000))
# headers that lie
wav("len_double.wav", one_s, data_size=2 * len(one_s))          # announces 2 s, holds 1 s
wav("len_half.wav", one_s, data_size=len(one_s) // 2)            # announces 0.5 s, holds 1 s
wav("len_odd.wav", one_s + b"\x01", data_size=len(one_s) + 1)    # half a frame at the end
wav("riff_lies.wav", one_s, riff_size=12)                        # RIFF size far too small
wav("len_unknown.wav", one_s, data_size=0xFFFFFFFF)              # streaming writer's size
wav("len_zero.wav", one_s, data_size=0)                          # streaming writer's size
for r in (0, 1, 4000, 10_000_000):
    wav("rate_%d.wav" % r, one_s, rate=r)
for c in (0, 65, 1000):
    wav("ch_%d.wav" % c, one_s, ch=c)
wav("bits_0.wav", one_s, bits=0)
wav("bits_7.wav", one_s, bits=7)
wav("bits_64pcm.wav", one_s, bits=64)
wav("align_0.wav", one_s, block_align=0)
wav("fmt_tag_bad.wav", one_s, fmt_tag=0x1234)
# a valid header, then random bytes as the audio: PCM (noise) and float (NaN/Inf among them)
noise = bytes(rng.getrandbits(8) for _ in range(32000))
wav("random_pcm.wav", noise)
wav("random_float.wav", noise, bits=32, fmt_tag=3)
# float sample values
n = 16000
x = sine(n)
y = list(x); y[100] = float("nan"); y[5000] = float("nan")
wav("nan.wav", f32(y), bits=32, fmt_tag=3)
y = list(x); y[200] = float("inf"); y[300] = float("-inf")
wav("inf.wav", f32(y), bits=32, fmt_tag=3)
wav("denormal.wav", f32([1e-40 * (1 if i % 2 else -1) for i in range(n)]), bits=32, fmt_tag=3)
wav("huge.wav", f32([1e30 * v for v in x]), bits=32, fmt_tag=3)
wav("above_fs.wav", f32([8.0 * v / 0.3 for v in x]), bits=32, fmt_tag=3)
wav("max_float.wav", f32([3.4e38 if i % 2 else -3.4e38 for i in range(n)]), bits=32, fmt_tag=3)
wav("dc.wav", pcm16([0.5 + 0.2 * v for v in x]))
wav("square_fs.wav", pcm16([1.0 if (i // 20) % 2 else -1.0 for i in range(3 * n)]))
wav("clipped.wav", pcm16([max(-1.0, min(1.0, 10 * v)) for v in sine(3 * n)]))
# shapes
wav("one_sample.wav", pcm16([0.1]))
wav("one_frame_stereo.wav", pcm16([0.1, -0.1]), ch=2)
wav("one_window.wav", pcm16(sine(16000)))       # 1 s: exactly one 1 s classifier window
wav("header_only.wav", b"")
# 64-bit float
wav("f64.wav", struct.pack("<%dd" % n, *x), bits=64, fmt_tag=3)
