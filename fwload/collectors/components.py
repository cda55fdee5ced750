"""Which component a pod belongs to, decided the same way by every backend that sees pods.

The seed labels its pods with ``app.kubernetes.io/component`` (DESIGN.md); other installs
use ``app.kubernetes.io/name`` or ``app``; a pod with none of them is named after the
Deployment that owns it (through its ReplicaSet), else after itself.
"""

from __future__ import annotations

from collections.abc import Mapping

COMPONENT_LABELS = ("app.kubernetes.io/component", "app.kubernetes.io/name", "app")


def component_of(labels: Mapping[str, str], owner_replicaset: str | None, fallback: str) -> str:
    """The component label, else the name/app label, else the owning Deployment's name."""
    for key in COMPONENT_LABELS:
        if labels.get(key):
            return labels[key]
    if owner_replicaset:
        return deployment_of(owner_replicaset, labels.get("pod-template-hash"))
    return fallback


def deployment_of(replicaset: str, template_hash: str | None) -> str:
    """``funkwhale-api-7d9c6b5f4`` -> ``funkwhale-api`` (Deployment names may contain dashes)."""
    if template_hash and replicaset.endswith("-" + template_hash):
        return replicaset[: -len(template_hash) - 1]
    return replicaset.rsplit("-", 1)[0]
