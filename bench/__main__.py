"""``python -m bench [--quick] [--only NAME ...] [--work DIR] [--json FILE]``: run the benchmarks, print the table.

Exit status: 0 when every benchmark ran (targets met or not: the table says which), 2
when one could not run (a missing tool, a failed child), 1 with ``--strict`` when a
target was not met.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from bench import arrivals, collector, generator, listeners, percentiles, recording, report_speed, streaming
from bench.errors import BenchError
from bench.procs import describe_pinning
from bench.sizes import FULL, QUICK, Sizes
from bench.table import Row, machine, render

BENCHMARKS: dict[str, Callable[[Sizes, Path], list[Row]]] = {
    "generator": lambda sizes, _work: generator.run(sizes),
    "streaming": lambda sizes, _work: streaming.run(sizes),
    "listeners": lambda sizes, _work: listeners.run(sizes),
    "recording": lambda sizes, _work: recording.run(sizes),
    "analysis": report_speed.run,
    "collector": lambda sizes, _work: collector.run(sizes),
    "percentiles": lambda sizes, _work: percentiles.run(sizes),
    "arrivals": lambda sizes, _work: arrivals.run(sizes),
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: every benchmark in seconds (smoke test)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=[], metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the synthetic run directories here (reused by the next run); default: a temp dir")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    sizes = QUICK if args.quick else FULL
    names = args.only or list(BENCHMARKS)
    work = args.work or Path(tempfile.mkdtemp(prefix="fwload-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    started = time.monotonic()
    try:
        for name in names:
            began = time.monotonic()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            rows += BENCHMARKS[name](sizes, work)
            print(f"bench: {name} done in {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"fwload benchmarks ({'quick' if args.quick else 'full'} sizes), {time.monotonic() - started:.0f} s")
    print(f"machine: {machine()}; {describe_pinning()}")
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": [asdict(row) for row in rows]}, indent=2))
    return 1 if args.strict and any(row.met is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
