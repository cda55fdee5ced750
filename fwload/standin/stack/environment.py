"""Handing the settings to the API and Celery processes through their environment.

The values include the secret key that signs listen tokens (every API worker must verify
what another signed) and possibly a database password, so they travel in an environment
variable, never in argv (which every local user can read). The admin password is left out:
the schema and the admin account are made once, before the workers start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from fwload.standin.settings import StandinSettings

SETTINGS_ENV = "FWLOAD_STACK_SETTINGS"
BEAT_INTERVAL_ENV = "FWLOAD_STACK_BEAT_INTERVAL_S"
TASK_MEMORY_ENV = "FWLOAD_STACK_TASK_MEMORY_MB"
STACK_LABEL_ENV = "FWLOAD_STACK"
COMPONENT_LABEL_ENV = "FWLOAD_COMPONENT"


def settings_environment(settings: StandinSettings) -> dict[str, str]:
    """The variable that rebuilds `settings` (minus the admin password) in a child process."""
    values = settings.model_dump(mode="json", exclude={"admin_password"})
    values["secret_key"] = settings.secret_key.get_secret_value()
    return {SETTINGS_ENV: json.dumps(values)}


def settings_from_environment(environ: Mapping[str, str] | None = None) -> StandinSettings:
    """The settings a stack process was started with; a clear error when started by hand."""
    environ = os.environ if environ is None else environ
    raw = environ.get(SETTINGS_ENV)
    if not raw:
        raise RuntimeError(
            f"{SETTINGS_ENV} is not set: this module is started by `fwload standin --mode stack`"
        )
    return StandinSettings.model_validate(json.loads(raw))
