#!/usr/bin/env python3
"""Decode rate of `yibao decode` against zxing-cpp on the same images, set by set.

Usage: compare.py YIBAO_BIN SET_DIR... (each SET_DIR holds images and a manifest.tsv
with path/expected/alt_expected columns; paths are matched by file name).
Prints a Markdown table; with --json, one JSON object.
"""
import json, os, subprocess, sys, time, statistics

def manifest(d):
    rows = {}
    with open(os.path.join(d, "manifest.tsv"), encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            c = dict(zip(head, line.rstrip("\n").split("\t")))
            rel = c["path"]
            p = os.path.join(d, rel)
            if not os.path.exists(p):
                p = os.path.join(d, os.path.basename(rel))
            txt = os.path.splitext(p)[0] + ".txt"
            if os.path.exists(txt):
                exp = {open(txt, encoding="utf-8", errors="replace", newline="").read()}
                exp.add(next(iter(exp)).rstrip("\n"))
            else:
                exp = {c["expected"]}
            if c.get("alt_expected"):
                exp.add(c["alt_expected"])
            rows[p] = exp
    return rows

def ours(binary, files):
    out = {}
    for i in range(0, len(files), 200):
        chunk = files[i:i + 200]
        r = subprocess.run([binary, "decode", "--json", "--stages", *chunk], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            v = json.loads(line)
            out[v["file"]] = (v.get("codes", []), v.get("ms", 0.0), v.get("stages", []))
    return out

def zxing(files):
    import zxingcpp, cv2
    out = {}
    for f in files:
        img = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        t = time.perf_counter()
        res = zxingcpp.read_barcodes(img) if img is not None else []
        ms = (time.perf_counter() - t) * 1000
        out[f] = ([r.text for r in res], ms, [])
    return out

def rate(results, rows):
    ok = sum(1 for f, exp in rows.items() if any(c in exp for c in results.get(f, ([], 0, []))[0]))
    ms = [results[f][1] for f in rows if f in results]
    return ok, len(rows), statistics.median(ms) if ms else 0, (sorted(ms)[int(0.95 * (len(ms) - 1))] if ms else 0)

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    binary, sets = args[0], args[1:]
    table = []
    for d in sets:
        rows = manifest(d)
        files = sorted(rows)
        o, z = ours(binary, files), zxing(files)
        ro, rz = rate(o, rows), rate(z, rows)
        stages = {}
        for f, exp in rows.items():
            codes, _, st = o.get(f, ([], 0, []))
            if any(c in exp for c in codes) and st:
                stages[st[0]] = stages.get(st[0], 0) + 1
        table.append({"set": os.path.basename(d.rstrip("/")), "n": ro[1], "ours": ro[0], "zxing": rz[0],
                      "ours_median_ms": round(ro[2], 2), "ours_p95_ms": round(ro[3], 2),
                      "zxing_median_ms": round(rz[2], 2), "stages": stages,
                      "missed": [os.path.basename(f) for f, exp in rows.items() if not any(c in exp for c in o.get(f, ([],))[0])]})
    if "--json" in sys.argv:
        print(json.dumps(table, ensure_ascii=False))
        return
    print("| set | images | yibao decode | zxing-cpp | yibao median ms | yibao p95 ms | zxing-cpp median ms |")
    print("|---|---|---|---|---|---|---|")
    for t in table:
        print(f"| {t['set']} | {t['n']} | {t['ours']} ({100*t['ours']/t['n']:.1f}%) | {t['zxing']} ({100*t['zxing']/t['n']:.1f}%) | {t['ours_median_ms']} | {t['ours_p95_ms']} | {t['zxing_median_ms']} |")
    for t in table:
        print(f"{t['set']}: stages {t['stages']}; missed {len(t['missed'])}: {' '.join(t['missed'][:30])}", file=sys.stderr)

main()
