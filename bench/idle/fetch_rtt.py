#!/usr/bin/env python3
"""Fetch request rate and round trip of every Kafka client thread of a process.

Reads the output of
    strace -f -tt -e trace=sendmsg,recvmsg -p <opsline pid> -o trace.txt
and prints how many Fetch requests (API key 1, versions 12-16) were sent per second and how long
the broker took to answer them (request sent -> first 8 bytes of the response read on the same
thread). A broker that honours `fetch.wait.max.ms` (500 ms by default) on an idle partition
answers in about 500 ms; one that answers at once makes every idle consumer loop.
Usage: fetch_rtt.py trace.txt
"""
import collections
import re
import sys

LINE = re.compile(r"(\d+)\s+(\d+):(\d+):([\d.]+) (.*)")
# strace shows the request header as: size (4 bytes) api_key=\0\1 api_version=\0\f (12) .. \0\20 (16)
FETCH = re.compile(r"\\0\\1\\0(\\f|\\r|\\16|\\17|\\20)\\0")


def main(path):
    sends = collections.Counter()
    pending, rtts = {}, []
    first = last = None
    with open(path, encoding="utf-8", errors="replace") as trace:
        for line in trace:
            m = LINE.match(line)
            if not m:
                continue
            tid, rest = m.group(1), m.group(5)
            t = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
            first = t if first is None else first
            last = t
            if rest.startswith("sendmsg(") and FETCH.search(rest[:120]):
                sends[tid] += 1
                pending[tid] = t
            elif "recvmsg" in rest and "iov_len=8" in rest and tid in pending:
                rtts.append((t - pending.pop(tid)) * 1000)
    if first is None or last <= first:
        sys.exit("no strace lines found")
    span = last - first
    total = sum(sends.values())
    print(f"window {span:.2f}s, Fetch requests: {total} from {len(sends)} threads = {total / span:.1f}/s")
    if rtts:
        rtts.sort()
        p50 = rtts[len(rtts) // 2]
        p99 = rtts[int(len(rtts) * 0.99)]
        print(f"Fetch round trip ms: p50 {p50:.2f} p99 {p99:.2f} max {rtts[-1]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
