#!/usr/bin/env python3
"""Interleaved wall-clock comparison of crymeter builds against ffmpeg's ebur128 filter.

    python3 bench/ab.py FILE RUNS BIN [BIN ...]

Each round times ffmpeg once, then every BIN (`BIN analyze -f jsonl --no-progress FILE`), so
builds meet the same machine state; prints per build the median wall time and the median of
its per-round ratios to ffmpeg. A BIN may be a script that sets an environment variable and
runs a build (measurement variants). bench/README.md's "interleaved runs" come from this."""
import statistics, subprocess, sys, time

def wall(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - t0

def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    f, runs, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    res = {b: [] for b in bins}
    ff = []
    for _ in range(runs):
        g = wall(['ffmpeg', '-nostats', '-hide_banner', '-i', f, '-af', 'ebur128', '-f', 'null', '-'])
        ff.append(g)
        for b in bins:
            c = wall([b, 'analyze', '-f', 'jsonl', '--no-progress', f])
            res[b].append((c, c / g))
    print('ffmpeg median %.3f s' % statistics.median(ff))
    for b in bins:
        print('%s: median wall %.3f s, median ratio %.3f, ratios %s' % (
            b, statistics.median(x[0] for x in res[b]), statistics.median(x[1] for x in res[b]),
            ' '.join('%.2f' % x[1] for x in res[b])))

if __name__ == '__main__':
    main()
