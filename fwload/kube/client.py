"""An API client for the cluster the user means, and one readable error per failure.

The client is private (``new_client_from_config``), never the library's global default, so
two commands or tests with different kubeconfigs cannot leak into each other. Failures
become `fwload.errors.TargetError` (exit 2) naming the problem and the fix: a missing
kubeconfig, an unknown context, rejected credentials, RBAC, an unreachable server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fwload.errors import TargetError, UsageError

REQUEST_TIMEOUT_S = 15.0
"""Per API call: a hung API server must end a command, not freeze it."""

def load_api_client(kubeconfig: Path | None = None, context: str | None = None) -> Any:
    """A ``kubernetes.client.ApiClient`` from ``kubeconfig`` (default: $KUBECONFIG, then
    ~/.kube/config), or from the pod's service account when there is no kubeconfig and the
    process runs in a cluster (the Locust master and the CI Job)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    path = kubeconfig.expanduser() if kubeconfig else _default_kubeconfig()
    if kubeconfig is not None and not path.is_file():
        raise UsageError(f"kubeconfig {kubeconfig} does not exist", "pass --kubeconfig with an existing file")
    if path.is_file():
        try:
            return config.new_client_from_config(config_file=str(path), context=context or None,
                                                 persist_config=False)
        except ConfigException as error:
            raise UsageError(f"kubeconfig {path} cannot be used: {error}",
                             "check it with `kubectl config get-contexts`; pass --context with one of "
                             "those names") from None
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as error:
            raise UsageError(f"the pod's service account cannot be used: {error}",
                             "mount a service account token (automountServiceAccountToken) or pass "
                             "--kubeconfig") from None
        return client.ApiClient(configuration)
    raise UsageError(f"no kubeconfig found ({path}) and not running inside a cluster",
                     "pass --kubeconfig (or set KUBECONFIG) to reach the cluster that runs Funkwhale")


def _default_kubeconfig() -> Path:
    configured = os.environ.get("KUBECONFIG", "")
    first = next((part for part in configured.split(os.pathsep) if part.strip()), "")
    return Path(first or "~/.kube/config").expanduser()


def server_of(api_client: Any) -> str:
    return str(getattr(api_client.configuration, "host", "") or "the API server")


def rbac_fix(namespace: str) -> str:
    return (f"grant read access in namespace {namespace}: `kubectl apply -k k8s/locust` creates the Role "
            f"fwload-collector; bind it to yourself with `kubectl -n {namespace} create rolebinding "
            "fwload-me --role=fwload-collector --user=<you>` (see docs/kubernetes.md, RBAC)")


def api_failure(error: BaseException, action: str, *, namespace: str, api_client: Any,
                fix: str | None = None) -> TargetError:
    """The `TargetError` for a failed call (``action`` says what was attempted)."""
    from kubernetes.client.exceptions import ApiException

    server = server_of(api_client)
    if isinstance(error, ApiException):
        status, message = error.status, status_message(error)
        if status == 0 and "Handshake status 403" in str(error.reason):
            status = 403
        if status == 401:
            return TargetError(f"{server} rejected the credentials (401 Unauthorized) while {action}",
                               "refresh the kubeconfig's credentials (does `kubectl get pods` work?) "
                               "or pass --kubeconfig/--context")
        if status == 403:
            return TargetError(f"RBAC denies {action}: {message}", fix or rbac_fix(namespace))
        answer = f"{status} {error.reason}" if error.reason else str(status)
        return TargetError(f"{server} answered {answer} while {action}: {message}",
                           fix or "check the cluster's health with `kubectl get --raw /readyz`")
    return TargetError(f"cannot reach the Kubernetes API at {server} while {action}: {_short(error)}",
                       "check the kubeconfig's server address and your network or VPN "
                       "(`kubectl cluster-info`)")


def call_api(api_client: Any, namespace: str, action: str, method: Any, *args: Any, **kwargs: Any) -> Any:
    """``method(*args, **kwargs)`` with a timeout; API and connection failures become `TargetError`."""
    try:
        return method(*args, _request_timeout=REQUEST_TIMEOUT_S, **kwargs)
    except Exception as error:
        if is_connection_error(error) or is_api_error(error):
            raise api_failure(error, action, namespace=namespace, api_client=api_client) from None
        raise


def is_api_error(error: BaseException) -> bool:
    from kubernetes.client.exceptions import ApiException

    return isinstance(error, ApiException)


def is_connection_error(error: BaseException) -> bool:
    """urllib3 raises its own hierarchy (``MaxRetryError`` ...) for refused or timed-out calls."""
    import urllib3.exceptions

    return isinstance(error, (urllib3.exceptions.HTTPError, OSError))


def status_message(error: Any) -> str:
    """The ``message`` of a Status body; aggregated APIs may answer text/plain instead."""
    body = getattr(error, "body", None) or ""
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return str(body).strip() or str(getattr(error, "reason", "") or "")
    return str(parsed.get("message") or body).strip() if isinstance(parsed, dict) else str(body).strip()


def _short(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    text = str(reason or error)
    return text if len(text) <= 200 else text[:197] + "..."
