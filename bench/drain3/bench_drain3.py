"""Drain3 throughput on whole raw log lines (header included), for comparison with
`cargo run --release -p opsline-logmine --example bench_logs`.

Reads the files' lines into memory, repeats them until at least --lines lines (default 1,000,000),
mines them single-threaded with a default TemplateMiner (no persistence) and prints
{"lines", "seconds", "lines_per_s", "cpu_seconds", "lines_per_cpu_s", "templates",
"peak_rss_bytes"} as JSON (CPU time of the mining thread, as `bench_logs` reports it).
"""

import argparse
import json
import logging
import resource
import time

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig


def peak_rss_bytes():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)

    lines = []
    for path in args.files:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines.extend(l.rstrip("\r\n") for l in f if l.strip())
    if not lines:
        raise SystemExit("no lines")
    passes = max(1, -(-args.lines // len(lines)))

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    cpu_start = time.thread_time()
    start = time.perf_counter()
    for _ in range(passes):
        for line in lines:
            miner.add_log_message(line)
    seconds = time.perf_counter() - start
    cpu_seconds = time.thread_time() - cpu_start
    total = passes * len(lines)
    print(json.dumps({
        "lines": total,
        "seconds": seconds,
        "lines_per_s": total / seconds if seconds > 0 else 0.0,
        "cpu_seconds": cpu_seconds,
        "lines_per_cpu_s": total / cpu_seconds if cpu_seconds > 0 else None,
        "templates": len(miner.drain.clusters),
        "peak_rss_bytes": peak_rss_bytes(),
    }))


if __name__ == "__main__":
    main()
