"""Apply a scenario to Locust's user classes: the mix, per-class options, timeouts, auth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fwload.funkwhale.accounts import AccountPool, load_users_file
from fwload.scenario.model import Scenario
from fwload.users.base import AuthSettings, FunkwhaleUser
from fwload.users.sessions import SlotPool


def apply_scenario(environment: Any, scenario: Scenario) -> None:
    """Keep only the scenario's classes, with its weights and options.

    Done on the master before the first dispatch and on every worker before it spawns
    users, so both sides agree on the mix and every user sees its class's options. In an
    arrivals run every user is a slot of one new pool (`fwload.plugin.arrivals` hands them
    their sessions).
    """
    known = {cls.__name__: cls for cls in _all_user_classes(environment)}
    chosen = []
    for mix in scenario.users:
        cls = known[mix.class_name]
        cls.weight = mix.weight
        cls.fixed_count = mix.fixed_count or 0
        cls.options = mix.options
        chosen.append(cls)
    timeout = scenario.target.request_timeout
    for cls in chosen:
        cls.network_timeout = cls.connection_timeout = timeout
    FunkwhaleUser.arrivals = SlotPool() if scenario.load.profile == "arrivals" else None
    environment.user_classes = chosen


def _all_user_classes(environment: Any) -> list[type]:
    """Every Funkwhale user class known to the locustfile, even those a previous scenario left out."""
    if not hasattr(environment, "_fwload_all_user_classes"):
        environment._fwload_all_user_classes = list(environment.user_classes)
    return environment._fwload_all_user_classes


def prepare_uploads(environment: Any, fixtures_dir: str) -> None:
    """Fixtures in memory before the load, when the mix has uploaders."""
    for cls in environment.user_classes:
        prepare = getattr(cls, "prepare", None)
        if prepare is not None:
            prepare(fixtures_dir)


def configure_auth(mode: str, users_file: str | Path | None, worker_index: int = 0) -> AuthSettings:
    """Set how every virtual user of this process authenticates (and check the users file)."""
    accounts = load_users_file(users_file) if users_file else None
    settings = AuthSettings(mode=mode, accounts=AccountPool(accounts, worker_index) if accounts else None,
                            register=accounts is None)
    FunkwhaleUser.auth_settings = settings
    return settings
