#!/usr/bin/env python3
"""Times commands in alternation: run 1 of each, then run 2 of each, and so on.

    benches/alternate.py [--runs N] [--warmup N] [--export-json FILE] COMMAND...

hyperfine times all runs of one command before the next; on a shared machine whose speed
drifts over minutes (a virtual machine with busy neighbours), that drift lands on one
command and not the other. Alternating runs spreads it over both. A COMMAND starting with
`sh:` runs through /bin/sh (for redirections); others are split like a shell would and run
directly, with stdout and stderr to /dev/null. Exit codes are not checked (`diff` exits 1).

The JSON has hyperfine's fields (results[].command, mean, stddev, median, min, max, user,
system, times, in seconds), so the benchmarks' summaries read either.
"""
import argparse
import json
import os
import shlex
import statistics
import sys
import time


def spawn(argv, devnull):
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, _, usage = os.wait4(pid, 0)
    return time.perf_counter() - start, usage.ru_utime, usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--export-json")
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args()
    argvs = [["/bin/sh", "-c", c[3:]] if c.startswith("sh:") else shlex.split(c)
             for c in args.commands]
    devnull = os.open(os.devnull, os.O_WRONLY)
    runs = [[] for _ in argvs]
    for round_ in range(args.warmup + args.runs):
        for argv, out in zip(argvs, runs):
            timing = spawn(argv, devnull)
            if round_ >= args.warmup:
                out.append(timing)
    results = []
    for command, timings in zip(args.commands, runs):
        wall = [t[0] for t in timings]
        results.append({
            "command": command[3:] if command.startswith("sh:") else command,
            "mean": statistics.mean(wall),
            "stddev": statistics.stdev(wall) if len(wall) > 1 else 0.0,
            "median": statistics.median(wall),
            "min": min(wall),
            "max": max(wall),
            "user": statistics.mean(t[1] for t in timings),
            "system": statistics.mean(t[2] for t in timings),
            "times": wall,
        })
    for r in results:
        print(f"{r['median'] * 1000:10.1f} ms median  {r['mean'] * 1000:10.1f} ± "
              f"{r['stddev'] * 1000:.1f} ms mean  (user {r['user'] * 1000:.1f}, system "
              f"{r['system'] * 1000:.1f})  {r['command']}", file=sys.stderr)
    if args.export_json:
        with open(args.export_json, "w") as f:
            json.dump({"results": results}, f, indent=1)


if __name__ == "__main__":
    main()
