#!/usr/bin/env python3
"""CPU time of a running process's threads over an interval, by thread name.

Reads /proc/PID/task/*/stat twice, SECONDS apart, and prints the clock ticks
each thread name used in between, and the share of the threads whose names
start with one of the comma-separated PREFIXES against all the others. Both
come from the same interval, so the share does not move when the host's speed
changes between runs (what an A/B of two runs cannot tell apart).

    scripts/thread_cpu.py $(pidof iamd) 6 audit,rocksdb
    # ... audit/rocksdb threads 13.6% of the CPU: +15.8% on top of the rest
"""
import collections
import os
import sys
import time


def ticks_by_name(pid):
    out = collections.Counter()
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/stat') as f:
                stat = f.read()
        except OSError:
            continue  # the thread exited meanwhile
        name = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        out[name] += int(fields[11]) + int(fields[12])  # utime + stime
    return out


def main(pid, seconds, prefixes):
    before = ticks_by_name(pid)
    time.sleep(seconds)
    after = ticks_by_name(pid)
    used = {name: after[name] - before.get(name, 0) for name in after}
    total = sum(used.values())
    chosen = sum(v for k, v in used.items() if k.startswith(prefixes))
    for name, ticks in sorted(used.items(), key=lambda kv: -kv[1]):
        if ticks:
            print(f'  {name:<20} {ticks}')
    rest = total - chosen
    print(f'{"/".join(prefixes)} threads {100 * chosen / max(total, 1):.1f}% of the '
          f'CPU: +{100 * chosen / max(rest, 1):.1f}% on top of the rest '
          f'({total} ticks in {seconds} s)')


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(int(sys.argv[1]), float(sys.argv[2]), tuple(sys.argv[3].split(',')))
