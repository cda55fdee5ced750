"""Fixtures: the fake Kubernetes API on loopback, a kubeconfig pointing at it, child processes,
cgroups made (and removed) by the test."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fwload.collectors.cgroups import Cgroup, create_cgroup, remove_cgroup
from tests.collectors.spawn import Child
from tests.fakes.kube_api import FakeCluster, FakeKubeAPI


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def fake_api(cluster: FakeCluster) -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(cluster) as api:
        yield api


@pytest.fixture
def kubeconfig(fake_api: FakeKubeAPI, tmp_path: Path) -> Path:
    return fake_api.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def children() -> Iterator[list[Child]]:
    made: list[Child] = []
    yield made
    for child in made:
        child.stop()


@pytest.fixture
def make_cgroup() -> Iterator:
    """``make_cgroup(memory_limit_bytes=..., cpu_limit_m=...)``: a fresh cgroup, emptied and removed after."""
    made: list[Cgroup] = []

    def make(**limits) -> Cgroup:
        cgroup = create_cgroup(f"fwload-test-{uuid.uuid4().hex[:10]}", **limits)
        made.append(cgroup)
        return cgroup

    yield make
    for cgroup in made:
        for _ in range(100):  # kill what is left inside, then wait for the kernel to let the cgroup go
            listed = [(d / "cgroup.procs").read_text() for d in cgroup.directories() if d.is_dir()]
            for pid in {int(p) for text in listed for p in text.split()}:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                remove_cgroup(cgroup)
                break
            except OSError:
                time.sleep(0.05)
        assert not cgroup.exists(), f"could not remove {cgroup}"
