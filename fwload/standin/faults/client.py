"""Talking to a running stand-in's ``/_fwload/`` endpoints: arm faults, read counts (launcher and tests)."""

from __future__ import annotations

from typing import Any

import requests
from pydantic import SecretStr

from fwload.common.faults import Faults
from fwload.errors import FwloadError
from fwload.standin.faults.admin import COUNTS_PATH, FAULTS_PATH

TIMEOUT_S = 10.0


class FaultAdmin:
    """``FaultAdmin(url, "admin", password)``; every call raises `FwloadError` unless the stand-in agrees."""

    def __init__(self, url: str, username: str, password: SecretStr) -> None:
        self.url = url.rstrip("/")
        self._auth = (username, password)

    def arm(self, plan: Faults) -> dict[str, Any]:
        """Put ``plan`` (restarts left out: they are the launcher's) in force from now."""
        body = plan.without_restarts().model_dump(mode="json", by_alias=True)
        return self._call("PUT", FAULTS_PATH, json=body).json()

    def clear(self) -> dict[str, Any]:
        return self._call("DELETE", FAULTS_PATH).json()

    def state(self) -> dict[str, Any]:
        return self._call("GET", FAULTS_PATH).json()

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per request group: received, reset, throttled, error, delayed, status {code: n}."""
        return self._call("GET", COUNTS_PATH).json()["groups"]

    def reset_counts(self) -> None:
        self._call("DELETE", COUNTS_PATH)

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        username, password = self._auth
        try:
            answer = requests.request(
                method,
                self.url + path,
                auth=(username, password.get_secret_value()),
                timeout=TIMEOUT_S,
                **kwargs,
            )
        except requests.RequestException as error:
            raise FwloadError(
                f"the stand-in's admin endpoint {path} did not answer ({error.__class__.__name__})",
                "check that the stand-in still runs (its last lines of output say why not)",
            ) from None
        if answer.status_code >= 400:
            raise FwloadError(
                f"the stand-in refused {method} {path}: HTTP {answer.status_code} {answer.text[:300]}",
                "check the fault plan and the admin credentials",
            )
        return answer
