"""The native ceilings: wrk and curl on the same URL, their CPU time taken from the kernel."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.errors import BenchError, require_tool
from bench.procs import pinning, run_measured

_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(m?s)")


@dataclass
class Native:
    requests: int
    bytes: int
    cpu_s: float
    wall_s: float

    @property
    def requests_per_cpu_s(self) -> float:
        return self.requests / self.cpu_s if self.cpu_s else 0.0

    @property
    def bytes_per_cpu_s(self) -> float:
        return self.bytes / self.cpu_s if self.cpu_s else 0.0


def wrk(url: str, *, connections: int, seconds: float, headers: tuple[str, ...] = (),
        body_bytes: int = 0) -> Native:
    """wrk with one thread (one core at most), ``connections`` keep-alive connections."""
    command = [require_tool("wrk"), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for header in headers:
        command += ["-H", header]
    finished = run_measured([*command, url], timeout_s=seconds + 30, cpus=pinning()["generator"])
    match = _REQUESTS.search(finished.stdout)
    if match is None:
        raise BenchError(f"cannot read wrk's output:\n{finished.stdout}")
    if "Non-2xx" in finished.stdout or "Socket errors" in finished.stdout:
        raise BenchError(f"wrk saw errors:\n{finished.stdout}")
    requests = int(match.group(1))
    return Native(requests=requests, bytes=requests * body_bytes, cpu_s=finished.cpu_s, wall_s=finished.wall_s)


def curl_ranges(url: str, *, fetches: int, range_bytes: int) -> Native:
    """One curl process fetching the same byte range ``fetches`` times over one kept-alive connection.

    URL globbing (``?[1-N]``) makes curl reuse its connection, as a player would.
    """
    command = [require_tool("curl"), "-sSf", "-r", f"0-{range_bytes - 1}", f"{url}?n=[1-{fetches}]",
               "-o", "/dev/null", "-w", "%{size_download}\\n"]
    finished = run_measured(command, timeout_s=120, cpus=pinning()["generator"])
    sizes = [int(line) for line in finished.stdout.split()]
    if len(sizes) != fetches or any(size != range_bytes for size in sizes):
        raise BenchError(f"curl fetched {len(sizes)} ranges of sizes {sorted(set(sizes))[:5]}, "
                         f"expected {fetches} of {range_bytes}")
    return Native(requests=fetches, bytes=sum(sizes), cpu_s=finished.cpu_s, wall_s=finished.wall_s)
