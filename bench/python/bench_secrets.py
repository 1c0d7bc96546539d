#!/usr/bin/env python3
"""rngpool.secrets against the standard secrets module, per call (issue 12 §3).

Usage: bench/python/bench_secrets.py [--build BUILD] [--reps N] [--seconds S]

Starts the build's rngpoold on a temporary socket (tests/python's harness),
loads the build's librngpool.so.0 and the source tree's python/rngpool
(unless RNGPOOL_LIBRARY / an installed rngpool say otherwise), then times
each case in paired repetitions: standard, rngpool, standard, rngpool...
Each figure is the median over the repetitions of the mean time per call in
one repetition; the ratio is standard time / rngpool time (1.0 = as fast,
the issue's target is >= 0.5, with the local generator).  The machine should
be otherwise idle.  RNGPOOL_LOCAL_GENERATOR=0 in the environment switches the
library's local generator off (a daemon request per call): scripts/bench runs
it both ways.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets as std_secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List, Tuple

ROOT = Path(__file__).resolve().parents[2]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def per_call(function: Callable[[], object], seconds: float) -> float:
    """Mean seconds per call over a run of about `seconds`."""
    calls, start = 0, time.perf_counter()
    batch = 16
    while True:
        for _ in range(batch):
            function()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls
        batch = min(batch * 2, 4096)


def measure(pair: Tuple[Callable[[], object], Callable[[], object]], reps: int,
            seconds: float) -> Tuple[float, float]:
    theirs: List[float] = []
    ours: List[float] = []
    for _ in range(reps):
        theirs.append(per_call(pair[0], seconds))
        ours.append(per_call(pair[1], seconds))
    return statistics.median(theirs), statistics.median(ours)


def fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs" if seconds >= 1e-6 else f"{seconds * 1e9:.0f} ns"


def local_generator_on() -> bool:
    """As client-lib/src/daemon_link.cpp reads $RNGPOOL_LOCAL_GENERATOR."""
    return os.environ.get("RNGPOOL_LOCAL_GENERATOR", "") in ("", "1", "yes", "on", "true")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3, help="per measurement")
    args = parser.parse_args()

    build = Path(args.build)
    os.environ.setdefault("RNGPOOL_LIBRARY", str(build / "client-lib" / "librngpool.so.0"))
    os.environ.setdefault("RNGPOOL_DAEMON", str(build / "daemon" / "rngpoold"))
    sys.path.insert(0, str(ROOT / "tests" / "python"))
    sys.path.insert(0, str(ROOT / "python"))
    from daemon_harness import Daemon  # noqa: E402 (after the path is set)

    daemon = Daemon()
    try:
        os.environ["RNGPOOL_SOCKET"] = daemon.socket
        import rngpool  # noqa: E402
        from rngpool import secrets as ours  # noqa: E402

        ours_random = rngpool.SystemRandom()
        std_random = random.SystemRandom()
        cases = [
            ("token_bytes(32)", (lambda: std_secrets.token_bytes(32), lambda: ours.token_bytes(32))),
            ("token_hex(16)", (lambda: std_secrets.token_hex(16), lambda: ours.token_hex(16))),
            ("randbelow(10**6)", (lambda: std_secrets.randbelow(10**6), lambda: ours.randbelow(10**6))),
            ("SystemRandom().random()", (std_random.random, ours_random.random)),
        ]
        print("## Python: rngpool.secrets vs the standard secrets module, per call")
        print()
        print(f"CPU: {cpu_model()} ({os.cpu_count()} CPUs); Python {platform.python_version()} "
              f"({sys.executable}); load average before: {'%.2f %.2f %.2f' % os.getloadavg()}")
        local = local_generator_on()
        served = ("librngpool's local generator (a daemon request per MiB and per minute)" if local else
                  "the daemon, a request per call (RNGPOOL_LOCAL_GENERATOR=0: the target is not for this case)")
        print(f"librngpool: {rngpool.library_path()}; medians of {args.reps} paired repetitions of "
              f"{args.seconds} s each; rngpool calls are served by {served}")
        print()
        print("| case | standard | rngpool | ratio (standard/rngpool) | target |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name, pair in cases:
            theirs, mine = measure(pair, args.reps, args.seconds)
            ratio = theirs / mine
            target = ("≥ 0.5× " + ("✔" if ratio >= 0.5 else "✘")) if local else "—"
            print(f"| {name} | {fmt(theirs)} | {fmt(mine)} | {ratio:.3f}× | {target} |", flush=True)
    finally:
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
