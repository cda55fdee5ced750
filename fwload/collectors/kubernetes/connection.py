"""Where the collector's API client comes from: a kubeconfig (and context) or in-cluster.

A private ``ApiClient`` is built for each collector, so loading a kubeconfig never
replaces the process-wide default configuration (other code in the same process may use
another cluster). ``KUBECONFIG`` is read at call time: the client library reads it once,
at import. The namespace comes from the caller, else the kubeconfig context, else the
pod's ServiceAccount, else ``funkwhale`` (the seed's namespace).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from fwload.collectors.kubernetes.problems import safe_url
from fwload.errors import UsageError

DEFAULT_NAMESPACE = "funkwhale"
SERVICEACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass
class Connection:
    """An authenticated client and what to tell the user about it (never the credentials)."""

    api_client: client.ApiClient
    namespace: str
    server: str
    context: str | None
    source: str


def connect(
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    in_cluster: bool | None = None,
    namespace: str | None = None,
    retries: int = 1,
) -> Connection:
    """Build a client from an explicit kubeconfig, ``KUBECONFIG``, ``~/.kube/config`` or the pod.

    ``in_cluster=None`` decides by what exists. ``retries`` bounds urllib3's reconnects so
    a dead server costs a collector interval, not a minute.
    """
    configuration = client.Configuration()
    if in_cluster is None:
        in_cluster = (kubeconfig is None and _default_kubeconfig() is None
                      and "KUBERNETES_SERVICE_HOST" in os.environ)
    if in_cluster:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as error:
            raise UsageError(
                f"cannot use the in-cluster Kubernetes credentials: {error}",
                "run fwload in a pod with a ServiceAccount token mounted, or pass --kubeconfig PATH",
            ) from None
        source, chosen_context = "in-cluster ServiceAccount", None
        namespace = namespace or _serviceaccount_namespace()
    else:
        path = str(kubeconfig) if kubeconfig is not None else _default_kubeconfig()
        if path is None:
            raise UsageError(
                "no Kubernetes credentials found: KUBECONFIG is unset, ~/.kube/config does not exist "
                "and fwload is not running in a pod",
                "pass --kubeconfig PATH (and --context NAME) or set KUBECONFIG; "
                "for a local run use the processes backend",
            )
        _load_kubeconfig(path, context, configuration)
        chosen_context, context_namespace = _context_of(path, context)
        namespace = namespace or context_namespace
        source = f"kubeconfig {path}"
    configuration.retries = retries
    return Connection(
        api_client=client.ApiClient(configuration),
        namespace=namespace or DEFAULT_NAMESPACE,
        server=safe_url(configuration.host),
        context=chosen_context,
        source=source,
    )


def _default_kubeconfig() -> str | None:
    if os.environ.get("KUBECONFIG"):
        return os.environ["KUBECONFIG"]
    home = Path("~/.kube/config").expanduser()
    return str(home) if home.exists() else None


def _load_kubeconfig(path: str, context: str | None, configuration: client.Configuration) -> None:
    try:
        config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                persist_config=False)
    except ConfigException as error:
        raise _kubeconfig_error(path, context, str(error)) from None
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read kubeconfig {path}: {error}",
                         "check the file (kubectl --kubeconfig PATH config view)") from None


def _kubeconfig_error(path: str, context: str | None, message: str) -> UsageError:
    """The client's ConfigException messages are terse and sometimes misleading; say what they mean."""
    if "No configuration found" in message:
        return UsageError(f"no kubeconfig at {path}", "pass the right --kubeconfig PATH or set KUBECONFIG")
    if "is empty" in message:
        return UsageError(f"the kubeconfig {path} is empty", "point --kubeconfig at a complete kubeconfig")
    if "contexts list" in message and context:
        return UsageError(f"context {context!r} is not in kubeconfig {path}",
                          f"kubectl --kubeconfig {path} config get-contexts lists the contexts; "
                          "pass one with --context")
    if "current-context" in message:
        return UsageError(f"the kubeconfig {path} has no current-context",
                          "pass --context NAME, or run kubectl config use-context NAME")
    return UsageError(f"cannot use kubeconfig {path}: {message}",
                      "check it with kubectl --kubeconfig PATH config view")


def _context_of(path: str, context: str | None) -> tuple[str | None, str | None]:
    """The context's name and namespace (the client does not apply the namespace itself)."""
    try:
        contexts, current = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError):
        return context, None
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    if not chosen:
        return context, None
    return chosen.get("name"), (chosen.get("context") or {}).get("namespace")


def _serviceaccount_namespace() -> str | None:
    try:
        return SERVICEACCOUNT_NAMESPACE.read_text().strip() or None
    except OSError:
        return None
