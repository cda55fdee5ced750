"""What went wrong talking to the API server, in words a user can act on.

The official client reports failures as ``ApiException`` (any status; the body is a JSON
Status, except the aggregator's 503s, which are plain text) or as urllib3 errors when no
HTTP answer came at all. These helpers turn both into one line for a ``gap`` event and,
for the pre-flight check, into a `FwloadError` whose fix names the exact RBAC rule to add.
Nothing here ever includes request headers, so a bearer token cannot leak into a message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from fwload.errors import FwloadError, TargetError

_FORBIDDEN = re.compile(
    r'User "(?P<user>[^"]*)" cannot (?P<verb>\w+) resource "(?P<resource>[^"]+)" '
    r'in API group "(?P<group>[^"]*)"(?: in the namespace "(?P<namespace>[^"]+)"| at the cluster scope)'
)


def safe_url(url: str) -> str:
    """The server URL without any user:password part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def http_status(error: BaseException) -> int | None:
    """The HTTP status of an ``ApiException`` (0 for a failed WebSocket handshake), else None."""
    status = getattr(error, "status", None)
    return status if isinstance(status, int) and hasattr(error, "body") else None


def status_message(error: BaseException) -> str:
    """The Status ``message`` of an API error, or its plain-text body, on one line."""
    body = getattr(error, "body", None) or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        message = json.loads(body).get("message", "")
    except (ValueError, AttributeError):
        message = body
    message = " ".join(str(message).split()) or str(getattr(error, "reason", "") or "")
    return message[:300]


def describe(error: BaseException) -> str:
    """One short line for a ``gap`` event: ``503 service unavailable``, ``connection refused``..."""
    status = http_status(error)
    if status:
        return f"{status} {status_message(error)}".strip()
    reason = getattr(error, "reason", None)
    text = " ".join(str(reason or error).split())
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered:
        return "timed out"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "host name not resolved"
    if "ssl" in lowered or "certificate" in lowered:
        return "TLS error: " + text[:200]
    return f"{type(error).__name__}: {text[:200]}"


@dataclass(frozen=True)
class Denial:
    """An RBAC refusal as the API server words it."""

    user: str
    verb: str
    resource: str
    group: str
    namespace: str | None

    @property
    def what(self) -> str:
        group = self.group or "core"
        scope = f'in namespace "{self.namespace}"' if self.namespace else "at cluster scope"
        return f'{self.verb} {self.resource} (API group {group}) {scope}'

    def rule(self, verbs: tuple[str, ...]) -> str:
        """The rule to add, in the YAML flow style of a Role's ``rules:``."""
        quoted = ", ".join(f'"{v}"' for v in verbs)
        return f'{{apiGroups: ["{self.group}"], resources: ["{self.resource}"], verbs: [{quoted}]}}'

    def kubectl(self, verbs: tuple[str, ...], name: str = "fwload-collector") -> str:
        """kubectl commands that create the Role (or ClusterRole) and bind it to the user."""
        resource = self.resource if not self.group else (
            f"{self.resource.split('/')[0]}.{self.group}" + ("/" + self.resource.split("/", 1)[1]
                                                            if "/" in self.resource else ""))
        subject = f"--user={self.user}"
        if self.user.startswith("system:serviceaccount:"):
            subject = "--serviceaccount=" + self.user.removeprefix("system:serviceaccount:")
        if self.namespace:
            return (f"kubectl -n {self.namespace} create role {name} --verb={','.join(verbs)} "
                    f"--resource={resource} && kubectl -n {self.namespace} create rolebinding {name} "
                    f"--role={name} {subject}")
        return (f"kubectl create clusterrole {name} --verb={','.join(verbs)} --resource={resource} && "
                f"kubectl create clusterrolebinding {name} --clusterrole={name} {subject}")

    def fix(self, verbs: tuple[str, ...], name: str = "fwload-collector") -> str:
        kind = "Role" if self.namespace else "ClusterRole (cluster-scoped)"
        return f"add the {kind} rule {self.rule(verbs)} for {self.user}: {self.kubectl(verbs, name)}"


def denial(error: BaseException) -> Denial | None:
    """The refused verb/resource of a 403, when the message says it (it always does on real servers)."""
    if http_status(error) != 403:
        return None
    match = _FORBIDDEN.search(status_message(error))
    if not match:
        return None
    return Denial(**match.groupdict())


def forbidden_error(error: BaseException, action: str, *, verbs: tuple[str, ...], resource: str,
                    group: str, namespace: str | None) -> FwloadError:
    """A pre-flight 403 as a FwloadError naming the missing permission and the rule to add."""
    found = denial(error) or Denial("<your user>", verbs[-1], resource, group, namespace)
    return FwloadError(
        f"the API server refused to let fwload {action}: RBAC denies {found.what} to {found.user}",
        found.fix(verbs),
    )


def unreachable_error(error: BaseException, server: str, context: str | None) -> TargetError:
    """No HTTP answer at all: refused, timed out, DNS or TLS."""
    how = describe(error)
    where = f" (context {context})" if context else ""
    kubectl = f"kubectl --context {context}" if context else "kubectl"
    fix = (f"check that the cluster is up and the kubeconfig points at it: {kubectl} cluster-info; "
           "a port-forward or VPN may be needed")
    if how.startswith("TLS"):
        fix = ("check the cluster's certificate-authority in the kubeconfig "
               "(kubectl cluster-info shows the same error)")
    return TargetError(f"cannot reach the Kubernetes API server at {safe_url(server)}{where}: {how}", fix)


def unauthorized_error(server: str, context: str | None) -> TargetError:
    whose = f"context {context}" if context else "the kubeconfig user"
    return TargetError(
        f"the Kubernetes API server at {safe_url(server)} rejected the credentials (401 Unauthorized)",
        f"refresh the token or client certificate of {whose}"
        " (kubectl get pods -n <namespace> must work with the same kubeconfig)",
    )
