"""Fixtures: the fake Kubernetes API on loopback, a kubeconfig pointing at it, child processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
