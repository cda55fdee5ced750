"""The one error a benchmark raises when it cannot run at all (a missing tool, a child that failed).

A missing nginx or wrk must fail loudly with the install command: a benchmark that quietly
skips would let the numbers it guards rot unnoticed.
"""

from __future__ import annotations

import shutil


class BenchError(RuntimeError):
    """A benchmark could not run; the message says why and how to fix it."""


APT_PACKAGES = {"nginx": "nginx-light", "wrk": "wrk", "curl": "curl", "taskset": "util-linux",
                "prometheus": "prometheus", "promtool": "prometheus"}


def require_tool(name: str) -> str:
    """The path of a system tool, or a `BenchError` naming the Debian package to install."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if path is None:
        package = APT_PACKAGES.get(name, name)
        raise BenchError(f"{name} is not installed; the benchmarks need it: apt-get install -y {package}")
    return path
