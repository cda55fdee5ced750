"""The right-sizing recommendations as a kustomize overlay against the Deployments of k8s/base.

One strategic-merge patch per Deployment sets the container's requests and limits to the
KRR "simple" figures (CPU request = p95, CPU limit removed, memory request = limit = peak x
1.15). The overlay is a starting point to review, not something to apply blindly: it comes
from one load-test window.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import yaml

from analysis.capacity.rightsizing import HISTORY_CAVEAT, MIB

DEPLOYMENTS = ("api", "celery-worker", "celery-beat", "nginx", "postgres", "redis")
"""Deployment names in k8s/base; each one's container has the same name."""
NAMESPACE = "funkwhale"
DIRECTORY = "recommendations"


def overlay_files(
    recommendations: pd.DataFrame, base: str, run_id: str, basis: str = HISTORY_CAVEAT
) -> dict[str, str]:
    """File name → text of the overlay (kustomization.yaml plus one patch per Deployment)."""
    files = {}
    patches = []
    for _, row in recommendations.iterrows():
        name = row["component"]
        if name not in DEPLOYMENTS or pd.isna(row["krr_cpu_request_m"]) or pd.isna(row["krr_memory_bytes"]):
            continue
        memory = f"{int(row['krr_memory_bytes'] // MIB)}Mi"
        patch = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": name,
                                "resources": {
                                    "requests": {
                                        "cpu": f"{int(row['krr_cpu_request_m'])}m",
                                        "memory": memory,
                                    },
                                    "limits": {"cpu": None, "memory": memory},
                                },
                            }
                        ]
                    }
                }
            },
        }
        header = (
            f"# {name}: CPU request = p95 of {row['cpu_samples']} samples, no CPU limit (null removes it);\n"
            f"# memory request = limit = peak of {row['memory_samples']} samples x 1.15.\n"
            + "".join(f"# {caveat}\n" for caveat in row["caveats"])
        )
        files[f"{name}.yaml"] = header + yaml.safe_dump(patch, sort_keys=False)
        patches.append({"path": f"{name}.yaml"})
    if not patches:
        return {}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": NAMESPACE,
        "resources": [base],
        "patches": patches,
    }
    files["kustomization.yaml"] = (
        f"# Right-sizing from fwload run {run_id} (KRR 'simple' formulas).\n"
        f"# {basis}.\n# Review before use: kubectl kustomize . | kubectl diff -f -\n"
        + yaml.safe_dump(kustomization, sort_keys=False)
    )
    return files


def base_reference(run_dir: Path) -> str:
    """Path from ``<run_dir>/recommendations`` to the nearest ``k8s/base`` above the run directory.

    Falls back to the layout of this repository (reports/<run-id>/recommendations).
    """
    target = run_dir.resolve() / DIRECTORY
    for parent in run_dir.resolve().parents:
        if (parent / "k8s" / "base").is_dir():
            return os.path.relpath(parent / "k8s" / "base", target)
    return "../../../k8s/base"
