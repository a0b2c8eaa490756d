#!/usr/bin/env python3
"""What `crymeter adapt` buys a home, measured on the shared data (issue 21).

    home_eval.py --crymeter build/crymeter --data ../shared/data --work DIR [--model M]

Each home is a source or group of the manifest: every cat of the CatMeows corpus, every
family of the home phone audio (home_noncry), the toddler recordings, every donateacry
family with enough crying, and troywang's internet cries. For each home, its clips in path
order are cut at 30 % of its audio (at most 5 minutes): the first part is sorted into a
clip folder (DIR/cry/ or DIR/<label>/) as a parent would sort monitor clips, and
`crymeter adapt` makes a home model from it; the rest is played as one stream (the clips
back to back, 1 s of digital silence between them) through `crymeter analyze`, with the
shipped model and with the home model. A cry episode overlapping a non-cry clip is a false
alarm; a cry clip overlapped by a cry episode is found. Crying of every other home is one
more stream (all cry clips of the manifest, each home's own left out when scoring it), so
that forgetting shows; and the first 60 of those cry clips are played once more, each right
after one of the home's test clips that are not crying (1 s of silence between), so that a
correction spread over time shows where it reaches crying; crying that goes on (3 of those
clips back to back) right after them shows whether it is lost or only found later.

Prints one Markdown table (a row per home) and a summary: the median over confuser homes of
the false-alarm ratio (before / after; in episodes, in time and in 5 s stretches), the
homes' crying found before and after, and the largest loss of other homes' crying. Needs
ffmpeg (decoding) and the crymeter binary; the work directory keeps the streams and models
(about 3 GB for the whole shared data).
"""
import argparse
import csv
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import wave
from collections import defaultdict

RATE = 16000
GAP_S = 1.0
ADAPT_SHARE = 0.30
ADAPT_MAX_S = 300.0
NONCRY_MAX_S = 1800.0
AFTER_N = 60  # cry clips played right after a home's own sounds
LONG_N = 3  # cry clips back to back: crying that goes on after a home's sounds
STRETCH_S = 5.0  # false alarms also counted in stretches of the stream this long
WORK_BYTES = 3e9  # the work directory for every home of the shared data (2.7 GB measured)


def decode(path, cache):
    """16 kHz mono s16 of path, kept in cache (a directory) across runs."""
    key = os.path.join(cache, hashlib.sha1(path.encode()).hexdigest() + ".s16")
    if not os.path.exists(key):
        out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-ac", "1",
                              "-ar", str(RATE), "-f", "s16le", "-"], capture_output=True)
        if out.returncode != 0:
            sys.exit(f"home_eval.py: {path}: ffmpeg: {out.stderr.decode(errors='replace')}")
        try:
            with open(key + ".tmp", "wb") as f:
                f.write(out.stdout)
        except OSError as e:
            raise OSError(e.errno, e.strerror, e.filename or key + ".tmp") from e
        os.replace(key + ".tmp", key)
    with open(key, "rb") as f:
        return f.read()


def write_stream(wav, clips, data, cache, gaps=None):
    """Clips back to back with GAP_S of silence between (gaps: {clip index: seconds} where
    another gap follows); returns [(start_s, end_s, row)]."""
    spans, t = [], 0.0
    try:
        with wave.open(wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            for i, r in enumerate(clips):
                pcm = decode(os.path.join(data, r["path"]), cache)
                d = len(pcm) / 2 / RATE
                g = (gaps or {}).get(i, GAP_S)
                spans.append((t, t + d, r))
                w.writeframes(pcm + b"\0\0" * int(g * RATE))
                t += d + g
    except OSError as e:
        raise OSError(e.errno, e.strerror, e.filename or wav) from e
    return spans


def cry_episodes(crymeter, wav, model):
    cmd = [crymeter, "analyze", "-f", "jsonl", "--no-progress", wav]
    if model:
        cmd[2:2] = ["--model", model]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"home_eval.py: {' '.join(cmd)}: {out.stderr}")
    eps = []
    for line in out.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("type") == "episode" and rec.get("class") == "cry":
            eps.append((rec["start_s"], rec["end_s"]))
    return eps


def cry_share(spans, eps, is_cry):
    """Share of the non-cry clips' time inside cry episodes (0 when there are none)."""
    tot = inside = 0.0
    for a, b, r in spans:
        if is_cry(r):
            continue
        tot += b - a
        inside += sum(max(0.0, min(b, e) - max(a, s)) for s, e in eps)
    return inside / tot if tot else 0.0


def stretches(spans, eps, is_cry, step=STRETCH_S):
    """(flagged, all): the stream cut into step-second stretches, those holding a non-cry
    clip, and of those the ones where a cry episode overlaps a non-cry clip: the unit the
    issue counts false alarms in ("39 of 76 five-second stretches of laughter")."""
    if not spans:
        return 0, 0
    n = int(spans[-1][1] // step) + 1
    flagged = total = 0
    for k in range(n):
        a0, b0 = k * step, (k + 1) * step
        parts = [(max(a, a0), min(b, b0)) for a, b, r in spans
                 if not is_cry(r) and a < b0 and b > a0]
        if not parts:
            continue
        total += 1
        flagged += any(s < b and e > a for a, b in parts for s, e in eps)
    return flagged, total


def score(spans, eps, is_cry):
    """(cry clips found, cry clips, false alarm episodes, {label: false alarms})."""
    found = sum(1 for a, b, r in spans if is_cry(r) and any(s < b and e > a for s, e in eps))
    n_cry = sum(1 for a, b, r in spans if is_cry(r))
    fa, by = 0, defaultdict(int)
    for s, e in eps:
        hit = [r for a, b, r in spans if s < b and e > a]
        if hit and not any(is_cry(r) for r in hit):
            fa += 1
            by[hit[0]["label"]] += 1
    return found, n_cry, fa, by


def found_set(spans, eps, is_cry):
    """Paths of the cry clips a cry episode overlaps."""
    return {r["path"] for a, b, r in spans if is_cry(r) and any(s < b and e > a for s, e in eps)}


def homes(rows):
    by = defaultdict(list)
    for r in rows:
        src, g, lab = r["source"], r["group"], r["label"]
        if src == "Cat-Meow-Classification":
            by["cat " + g.replace("catmeows-", "")].append(r)
        elif src == "donateacry-unverified" and lab == "home_noncry":
            by["home " + g.split(":")[-1][:8]].append(r)
        elif src == "jamiely_toddler":
            by["toddler"].append(r)
        elif src == "donateacry" and lab == "cry_infant":
            by["cry " + g.split(":")[-1][:8]].append(r)
        elif src == "troywang_babycrydetector":
            by["troywang"].append(r)
    keep = {}
    for k, v in by.items():
        dur = sum(float(r["duration_s"]) for r in v)
        # Enough to adapt on and to test: 20 s of audio and 6 clips.
        if dur >= 20 and len(v) >= 6:
            keep[k] = sorted(v, key=lambda r: r["path"])
    return keep


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crymeter", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", default=None, help="model to start from (default: built-in)")
    ap.add_argument("--only", default=None, help="comma-separated home names")
    ap.add_argument("--fold-models", default=None,
                    help="directory of fold{F}.json, each trained without fold F's sources")
    ap.add_argument("--path-fold", default=None, help="CSV lines path,fold (manifest paths)")
    ap.add_argument("--anchor-source", default=None,
                    help="adapt --anchors: the cry clips of these manifest sources "
                         "(comma-separated) outside the home's fold (default: adapt's built-in)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    free = shutil.disk_usage(a.work).free
    if free < WORK_BYTES:
        print(f"home_eval.py: {a.work}: {free / 1e9:.2f} GB free; every home of the shared "
              f"data needs about {WORK_BYTES / 1e9:.0f} GB (fewer with --only)", file=sys.stderr)
    rows = list(csv.DictReader(open(os.path.join(a.data, "manifest.csv"), encoding="utf-8")))
    cry = lambda r: r["label"] in ("cry_infant", "cry_adult")
    cache = os.path.join(a.work, "pcm")
    os.makedirs(cache, exist_ok=True)
    hs = homes(rows)
    if a.only:
        hs = {k: v for k, v in hs.items() if k in a.only.split(",")}
    # Fold models: each home is scored by the model of the fold that left its source out,
    # and forgetting is measured on that fold's other clips (all unseen by that model).
    fold = {}
    if a.fold_models:
        for line in open(a.path_fold, encoding="utf-8"):
            p, f = line.rstrip("\n").rsplit(",", 1)
            fold[p] = int(f)
    def base_model(clips):
        if not a.fold_models:
            return a.model, None
        fs = {fold.get(r["path"], -1) for r in clips}
        if len(fs) != 1 or -1 in fs:
            return None, None
        f = fs.pop()
        return os.path.join(a.fold_models, f"fold{f}.json"), f
    others = {}
    def other_streams(f):
        """(cry wav, spans, non-cry wav, spans) of fold f's clips (all clips: f None)."""
        if f in others:
            return others[f]
        pick = [r for r in rows if f is None or fold.get(r["path"]) == f]
        cr = [r for r in pick if cry(r)]
        nc = [r for r in pick if not cry(r)]
        dur = sum(float(r["duration_s"]) for r in nc)
        stride = max(1, int(dur / NONCRY_MAX_S))
        nc = nc[::stride]
        tag = "all" if f is None else f"fold{f}"
        cw, nw = os.path.join(a.work, f"cry_{tag}.wav"), os.path.join(a.work, f"noncry_{tag}.wav")
        others[f] = (cw, write_stream(cw, cr, a.data, cache), nw,
                     write_stream(nw, nc, a.data, cache))
        return others[f]
    base_eps = {}
    def episodes(wav, model):
        if (wav, model) not in base_eps:
            base_eps[(wav, model)] = cry_episodes(a.crymeter, wav, model)
        return base_eps[(wav, model)]

    print("| home | adapt s (clips) | test clips | false alarms before -> after (% of its other "
          "sounds' time in cry episodes) | crying found "
          "before -> after | other homes' crying before -> after | other homes' crying right "
          "after its sounds, found (missed there of those found among other crying) | other homes' false alarms "
          "per hour before -> after | adapt |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ratios, losses, found_b, found_a, fah, shares = [], [], [0, 0], [0, 0], [], []
    after_loss, after_long, stretch_r = [], [], []
    for name, clips in sorted(hs.items()):
        total = sum(float(r["duration_s"]) for r in clips)
        budget = min(ADAPT_SHARE * total, ADAPT_MAX_S)
        part, t = [], 0.0
        for r in clips:
            if part and t + float(r["duration_s"]) > budget:
                break
            part.append(r)
            t += float(r["duration_s"])
        test = clips[len(part):]
        d = os.path.join(a.work, name.replace(" ", "_"))
        folder = os.path.join(d, "clips")
        subprocess.run(["rm", "-rf", d], check=True)
        for r in part:
            sub = os.path.join(folder, "cry" if cry(r) else r["label"])
            os.makedirs(sub, exist_ok=True)
            src = os.path.abspath(os.path.join(a.data, r["path"]))
            os.symlink(src, os.path.join(sub, os.path.basename(r["path"])))
        base, f = base_model(clips)
        if a.fold_models and base is None:
            print(f"| {name} | | | | | | | not in one fold |", flush=True)
            continue
        home_model = os.path.join(d, "home.json")
        cmd = [a.crymeter, "adapt", "-o", home_model, folder]
        if a.anchor_source:
            ad_dir = os.path.join(a.work, f"anchors_{f}")
            if not os.path.isdir(ad_dir):
                os.makedirs(ad_dir)
                for r in rows:
                    if (cry(r) and r["source"] in a.anchor_source.split(",") and
                            (f is None or fold.get(r["path"]) != f)):
                        src = os.path.abspath(os.path.join(a.data, r["path"]))
                        os.symlink(src, os.path.join(ad_dir, r["source"] + "__" +
                                                     os.path.basename(r["path"])))
            cmd[2:2] = ["--anchors", ad_dir]
        if base:
            cmd[2:2] = ["--model", base]
        ad = subprocess.run(cmd, capture_output=True, text=True)
        adapted = ad.returncode == 0
        if ad.returncode not in (0, 1):
            sys.exit(f"home_eval.py: {' '.join(cmd)}: {ad.stderr}")
        model = home_model if adapted else base
        wav = os.path.join(d, "test.wav")
        spans = write_stream(wav, test, a.data, cache)
        fb, nc, fab, byb = score(spans, episodes(wav, base), cry)
        fa_, _, faa, bya = score(spans, episodes(wav, model), cry)
        shb = cry_share(spans, episodes(wav, base), cry)
        sha = cry_share(spans, episodes(wav, model), cry)
        if len(test) - nc > 0 and shb > 0:
            shares.append((shb, sha))
        stb = stretches(spans, episodes(wav, base), cry)
        sta = stretches(spans, episodes(wav, model), cry)
        if stb[0] > 0:
            stretch_r.append(stb[0] / max(sta[0], 0.5))
        # Other homes' crying and other sounds: this home's own clips left out.
        cw, cspans, nw, nspans = other_streams(f)
        own = {r["path"] for r in clips}
        keep = [s for s in cspans if s[2]["path"] not in own]
        ob, on, _, _ = score(keep, episodes(cw, base), cry)
        oa, _, _, _ = score(keep, episodes(cw, model), cry)
        keep = [s for s in nspans if s[2]["path"] not in own]
        hours = sum(b - a for a, b, _ in keep) / 3600
        _, _, nfb, _ = score(keep, episodes(nw, base), cry)
        _, _, nfa, _ = score(keep, episodes(nw, model), cry)
        fah.append((nfb / hours, nfa / hours))
        # Crying right after the home's own sounds: each of the first AFTER_N cry clips of
        # the other homes follows one of this home's test clips that are not crying (1 s of
        # silence between), where a correction spread over time would reach it.
        mine = [r for r in test if not cry(r)]
        after = "-"
        if mine:
            pairs = []
            others_cry = [sp for sp in cspans if sp[2]["path"] not in own]
            for i, (_, _, r) in enumerate(others_cry[:AFTER_N]):
                pairs += [mine[i % len(mine)], r]
            aw = os.path.join(d, "after.wav")
            aspans = write_stream(aw, pairs, a.data, cache)
            ab, an, _, _ = score(aspans, episodes(aw, base), cry)
            aa, _, _, _ = score(aspans, episodes(aw, model), cry)
            # The clips the model with the layer finds when they play among other crying,
            # and of those, the ones it misses right after the home's sounds. (Before the
            # layer, a false episode of the home's sound can run on into the crying after
            # it and "find" it, so the before/after counts alone overstate a loss.)
            first = {sp[2]["path"] for sp in others_cry[:AFTER_N]}
            def missed(m):
                alone = found_set(cspans, episodes(cw, m), cry) & first
                return len(alone - found_set(aspans, episodes(aw, m), cry)), len(alone)
            (mb, nb), (ma, na) = missed(base), missed(model)
            after = f"{ab}/{an} -> {aa}/{an} (missed {mb}/{nb} -> {ma}/{na})"
            if na and nb:
                after_loss.append((mb / nb, ma / na))
            # Crying that goes on (LONG_N cry clips back to back, about 20 s) right after the
            # home's sounds, against the same crying after 10 s of silence: a correction spread
            # over time should delay it, not lose it. A cry's delay runs from its start to the
            # first cry episode that overlaps it (0 when an episode already running reaches it).
            longs_rows = [[others_cry[(LONG_N * i + k) % len(others_cry)][2] for k in range(LONG_N)]
                          for i in range(AFTER_N)]
            def long_stream(lead):
                """(wav, [(start_s, end_s)] of each cry), written once for both models."""
                seq, heads, gaps = [], [], {}
                for i, lr in enumerate(longs_rows):
                    if lead:
                        seq.append(mine[i % len(mine)])
                    heads.append(len(seq))
                    seq += lr
                    gaps[len(seq) - 1] = GAP_S if lead else 10.0
                wav = os.path.join(d, "after_long.wav" if lead else "long_alone.wav")
                sp = write_stream(wav, seq, a.data, cache, gaps)
                return wav, [(sp[h][0], sp[h + LONG_N - 1][1]) for h in heads]
            streams = {lead: long_stream(lead) for lead in (False, True)}
            def long_delays(m, lead):
                wav, cries = streams[lead]
                eps = episodes(wav, m)
                out = []
                for s0, e0 in cries:
                    st = [max(0.0, s - s0) for s, e in eps if s < e0 and e > s0]
                    out.append(min(st) if st else None)
                return out
            def later(m):
                ref, cat = long_delays(m, False), long_delays(m, True)
                both = [y - x for x, y in zip(ref, cat) if x is not None and y is not None]
                lost = sum(1 for x, y in zip(ref, cat) if x is not None and y is None)
                return lost, sum(x is not None for x in ref), both
            lb, la = later(base), later(model)
            if lb[2] and la[2]:
                after_long.append((lb, la))
                after += "; going on: " + " -> ".join(
                    f"lost {x[0]}/{x[1]}, later by more than 2 s {sum(v > 2 for v in x[2])}, most {max(x[2]):.1f} s"
                    for x in (lb, la))
        if nc:
            found_b[0] += fb
            found_b[1] += nc
            found_a[0] += fa_
            found_a[1] += nc
        if len(test) - nc > 0 and fab > 0:
            ratios.append(fab / max(faa, 0.5))
        if on:
            losses.append((ob - oa) / on)
        other = f"{ob / on:.3f} -> {oa / on:.3f}" if on else "-"
        why = "yes" if adapted else ad.stderr.strip().split("adapt: ")[-1][:60]
        print(f"| {name} | {t:.0f} ({len(part)}) | {len(test)} | {fab} -> {faa} ({100 * shb:.0f} -> {100 * sha:.0f} %; {STRETCH_S:.0f} s stretches {stb[0]} -> {sta[0]} of {stb[1]}) | "
              f"{fb}/{nc} -> {fa_}/{nc} | {other} | {after} | {nfb / hours:.1f} -> {nfa / hours:.1f} | {why} |", flush=True)
    print()
    if ratios:
        print(f"false-alarm ratio before/after, median over {len(ratios)} homes with false "
              f"alarms: {statistics.median(ratios):.1f} (after 0 counted as 0.5)")
    if shares:
        r = [b / max(a, 0.005) for b, a in shares]
        print(f"share of the home's other sounds in cry episodes, ratio before/after, median "
              f"over {len(r)} homes: {statistics.median(r):.1f} (after 0 counted as 0.5 %)")
    if stretch_r:
        print(f"{STRETCH_S:.0f} s stretches of the home's other sounds in cry episodes, ratio "
              f"before/after, median over {len(stretch_r)} homes: "
              f"{statistics.median(stretch_r):.1f} (after 0 counted as 0.5)")
    if found_b[1]:
        print(f"homes' own crying found: {found_b[0]}/{found_b[1]} -> {found_a[0]}/{found_a[1]}")
    if losses:
        print(f"other homes' crying: largest loss {100 * max(losses):.1f} points, median "
              f"{100 * statistics.median(losses):.1f}")
    if after_loss:
        print(f"other homes' crying right after the home's own sounds, missed there of the "
              f"clips found among other crying: largest share {100 * max(b for b, _ in after_loss):.1f} -> "
              f"{100 * max(a for _, a in after_loss):.1f} %, median "
              f"{100 * statistics.median(b for b, _ in after_loss):.1f} -> "
              f"{100 * statistics.median(a for _, a in after_loss):.1f} %")
    if after_long:
        def desc(k):
            return (f"lost {sum(x[k][0] for x in after_long)} of {sum(x[k][1] for x in after_long)}, "
                    f"later by more than 2 s {sum(sum(v > 2 for v in x[k][2]) for x in after_long)}, "
                    f"at most {max(max(x[k][2]) for x in after_long):.1f} s")
        print(f"other homes' crying going on ({LONG_N} clips) right after the home's own sounds, "
              f"against after 10 s of silence: {desc(0)} -> {desc(1)}")
    if fah:
        print(f"other homes' false alarms per hour: largest rise "
              f"{max(a - b for b, a in fah):+.1f}, median {statistics.median(a - b for b, a in fah):+.1f}")


if __name__ == "__main__":
    try:
        main()
    except OSError as e:  # a full disk: the rows printed so far stand
        sys.exit(f"home_eval.py: {e.filename or 'write'}: {e.strerror}; the rows above were measured")
