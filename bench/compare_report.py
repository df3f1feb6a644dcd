#!/usr/bin/env python3
"""The Markdown report of bench/compare.sh: every run's figures, the medians, velin's ratios to
restic and between velin's encrypted and plain runs, and issue 19's goals.

  compare_report.py RESULTS.tsv TOOL...
RESULTS.tsv: tool, step, round, wall s, user s, sys s, peak RSS KiB, repository bytes.
"""
import statistics
import sys

STEPS = [("first", "first backup"), ("nochange", "no-change backup"),
         ("changed", "backup after 1 % change"), ("restore", "restore (latest), cold cache"),
         ("verify", "verify / check all data, cold cache")]


def main():
    path, tools = sys.argv[1], sys.argv[2:]
    runs = {}
    for line in open(path):
        tool, step, rnd, wall, user, sys_, rss, repo = line.split("\t")
        runs.setdefault((tool, step), []).append(
            (int(rnd), float(wall), float(user) + float(sys_), int(rss) / 1024, int(repo)))
    med = {}
    print("Every run (wall s / CPU s, in round order) and the medians; peak RSS is the largest "
          "of the runs.\n")
    print("| step | tool | wall s, each run | CPU s, each run | median wall s | median CPU s "
          "| peak RSS MiB | repository MiB |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for step, name in STEPS:
        for tool in tools:
            r = sorted(runs.get((tool, step), []))
            if not r:
                print(f"| {name} | {tool} | failed | | | | | |")
                continue
            w = statistics.median(x[1] for x in r)
            c = statistics.median(x[2] for x in r)
            m = max(x[3] for x in r)
            med[(tool, step)] = (w, c, m)
            print(f"| {name} | {tool} | {' '.join('%.2f' % x[1] for x in r)} "
                  f"| {' '.join('%.2f' % x[2] for x in r)} | {w:.2f} | {c:.2f} | {m:.0f} "
                  f"| {r[-1][4] / 2**20:.1f} |")

    def ratio(a, b, i):
        if a not in med or b not in med or med[b][i] == 0:
            return None
        return med[a][i] / med[b][i]

    def fmt(x):
        return "-" if x is None else "%.2f" % x

    velins = [t for t in tools if t.startswith("velin")]
    pairs = [(v, "restic") for v in velins if "restic" in tools]
    pairs += [(v, "velin") for v in velins if v != "velin" and "velin" in tools]
    print("\nRatios of the medians (below 1: the first needs less):\n")
    print("| step | " + " | ".join(f"{a} ÷ {b} wall | CPU | RSS" for a, b in pairs) + " |")
    print("|---|" + "---:|---:|---:|" * len(pairs))
    for step, name in STEPS:
        cells = []
        for a, b in pairs:
            cells += [fmt(ratio((a, step), (b, step), i)) for i in range(3)]
        print(f"| {name} | " + " | ".join(cells) + " |")

    goals = []
    for v in velins:
        for step, limit in [("first", 0.4), ("nochange", 0.1), ("restore", 0.4), ("verify", 0.5)]:
            x = ratio((v, step), ("restic", step), 0)
            goals.append((f"{v} {step}: wall ≤ {limit} × restic", x, x is not None and x <= limit))
        if v != "velin":
            for step in ["first", "restore", "verify"]:
                for i, what in [(0, "wall"), (1, "CPU")]:
                    x = ratio((v, step), ("velin", step), i)
                    goals.append((f"{v} {step}: {what} ≤ 1.10 × plain velin", x,
                                  x is not None and x <= 1.10))
        rss = max((m for (t, s), (_, _, m) in med.items() if t == v), default=None)
        goals.append((f"{v}: peak RSS < 100 MiB (MiB)", rss, rss is not None and rss < 100))
    print("\nIssue 19's goals:\n")
    print("| goal | value | result |\n|---|---:|---|")
    for label, x, ok in goals:
        print(f"| {label} | {fmt(x) if label.find('MiB)') < 0 else ('-' if x is None else '%.0f' % x)} "
              f"| {'met' if ok else '**missed**'} |")


main()
