"""Fixtures: the fake Kubernetes API on loopback, a kubeconfig pointing at it, child processes,
cgroups made (and removed) by the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.collectors.spawn import CgroupMaker, Child
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
def make_cgroup() -> Iterator[CgroupMaker]:
    """``make_cgroup(memory_limit_bytes=..., cpu_limit_m=...)``: a fresh cgroup, emptied and removed after."""
    maker = CgroupMaker()
    yield maker
    maker.remove_all()
