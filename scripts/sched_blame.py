#!/usr/bin/env python3
"""Who held the core while a thread waited to run.

Reads `perf sched timehist` output (file given as the first argument). For
every time a thread whose name matches PATTERN waited more than MIN_MS from
its wake-up to running (the "sch delay" column), it adds up which threads ran
on that core during the wait, and prints the totals, largest first.

    perf sched record -a -o sched.data -- sleep 20   # while the load runs
    perf sched timehist -i sched.data > timehist.txt
    scripts/sched_blame.py timehist.txt nexting 0.3
"""
import collections
import re
import sys

LINE = re.compile(r'^\s*([\d.]+)\s+\[(\d+)\]\s+(.+?)\[(\d+)(?:/(\d+))?\]'
                  r'\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)')


def main(path, pattern, min_ms):
    runs = collections.defaultdict(list)  # cpu -> [(start, end, name)]
    waits = []  # (cpu, woken, started)
    for line in open(path):
        m = LINE.match(line)
        if not m:
            continue
        end, cpu, name = float(m.group(1)), int(m.group(2)), m.group(3).strip()
        delay, ran = float(m.group(7)) / 1e3, float(m.group(8)) / 1e3
        start = end - ran
        runs[cpu].append((start, end, name))
        if re.search(pattern, name) and delay > min_ms / 1e3:
            waits.append((cpu, start - delay, start))
    blame = collections.Counter()
    for cpu, woken, started in waits:
        for start, end, name in runs[cpu]:
            if start < started and end > woken:
                blame[name] += min(end, started) - max(start, woken)
    total = sum(started - woken for _, woken, started in waits)
    print(f"{len(waits)} waits over {min_ms} ms, {total * 1e3:.1f} ms in all; "
          "ran meanwhile on that core:")
    for name, seconds in blame.most_common(15):
        print(f"  {name:40s} {seconds * 1e3:8.1f} ms")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
