"""`Scenario`: the validated form of a ``scenarios/*.yaml`` file (see docs/architecture.md).

Every field carries its default, bounds and description once, here and in the section
modules, so the CLI and web UI help are generated from the model rather than restated.
A file with only ``name``, ``users`` and ``load`` is valid: everything else defaults.
"""

from __future__ import annotations

import yaml
from pydantic import Field, model_validator

from fwload.scenario.checks import AbortRule, ResourceChecks, SLOs
from fwload.scenario.collector import CollectorSettings
from fwload.scenario.faults import Faults
from fwload.scenario.load import Caps, Load
from fwload.scenario.mix import UserMix
from fwload.scenario.problems import Problem, raise_problems
from fwload.scenario.schedule import Stage, build_stages
from fwload.scenario.section import Section
from fwload.scenario.target import Target
from fwload.units import format_duration

RESOLVED_HEADER = "# Resolved scenario: every default filled in, secrets masked.\n"


class Scenario(Section):
    """A load test: the target, the user mix, the load profile and what the run is judged by."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Short name (letters, digits, '.', '_', '-'); it ends up in run ids and reports.",
    )
    description: str = Field("", description="What the scenario checks, for people reading reports.")
    target: Target = Field(default_factory=Target, description="The server under test and how to log in.")
    users: list[UserMix] = Field(min_length=1, description="The user mix: classes, weights and options.")
    load: Load = Field(default_factory=Load, description="The load profile.")
    caps: Caps = Field(default_factory=Caps, description="Ceiling the profile must fit in.")
    slos: SLOs = Field(default_factory=SLOs, description="Service level objectives (exit 1 when broken).")
    resources: ResourceChecks = Field(
        default_factory=ResourceChecks, description="Resource checks per component (exit 3 when broken)."
    )
    abort: list[AbortRule] = Field(default_factory=list, description="Rules that stop a hopeless run early.")
    collector: CollectorSettings = Field(
        default_factory=CollectorSettings, description="Resource sampling backend and cadence."
    )
    faults: Faults = Field(
        default_factory=Faults,
        description="Trouble the local stand-in injects (latency, errors, throttling, resets, imports, "
        "restarts), to test the suite against a sick target; only with host: null.",
    )

    def stages(self) -> list[Stage]:
        """The load stages in order (name, start/end offsets in seconds, users, spawn rate)."""
        return build_stages(self.load)

    def dump_resolved(self) -> str:
        """YAML of the whole scenario with defaults filled in and secrets masked.

        Written as ``scenario.yaml`` in the run directory; `load_scenario` reads it back to
        the same model (secrets stay masked).
        """
        data = self.model_dump(mode="json", by_alias=True)
        return RESOLVED_HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    @model_validator(mode="after")
    def _fits_caps_and_mix(self) -> Scenario:
        self._resolve_slots()
        problems = [*self._beyond_caps(), *self._mix_problems()]
        raise_problems("Scenario", problems)
        return self

    def _resolve_slots(self) -> None:
        """Arrivals: slots default to caps.max_users, and are all spawned within a second
        unless load.spawn_rate says otherwise (they idle until a session is due)."""
        arrivals = self.load.arrivals
        if self.load.profile != "arrivals" or arrivals is None:
            return
        if arrivals.slots is None:
            arrivals.slots = self.caps.max_users
        if "spawn_rate" not in self.load.model_fields_set:
            self.load.spawn_rate = float(arrivals.slots)

    def _beyond_caps(self) -> list[Problem]:
        load, caps, problems = self.load, self.caps, []
        if load.peak_users > caps.max_users:
            if load.profile == "arrivals":
                loc, noun = ("load", "arrivals", "slots"), "slots"
            else:
                loc, noun = ("load", "users" if load.users >= load.from_users else "from_users"), "users"
            problems.append(
                Problem(
                    loc,
                    f"{load.peak_users} {noun} exceed caps.max_users "
                    f"({caps.max_users}); lower it or raise caps.max_users",
                    load.peak_users,
                )
            )
        if load.duration > caps.max_duration:
            problems.append(
                Problem(
                    ("load", "duration"),
                    f"{format_duration(load.duration)} exceeds "
                    f"caps.max_duration ({format_duration(caps.max_duration)}); shorten it or "
                    "raise caps.max_duration",
                    load.duration,
                )
            )
        return problems

    def _mix_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        for index, mix in enumerate(self.users):
            if mix.class_name in seen:
                problems.append(
                    Problem(
                        ("users", index, "class"),
                        f"{mix.class_name} is already in the mix "
                        f"(users[{seen[mix.class_name]}]); merge the two entries",
                        mix.class_name,
                    )
                )
            seen.setdefault(mix.class_name, index)
        if self.load.profile == "arrivals":
            problems += [
                Problem(("users", index, "fixed_count"), "not used with profile: arrivals (each session's class "
                        "is drawn by weight); remove it and set a weight", mix.fixed_count)
                for index, mix in enumerate(self.users) if mix.fixed_count is not None
            ]
        fixed = sum(mix.fixed_count or 0 for mix in self.users)
        if fixed > self.load.peak_users:
            index = max(i for i, mix in enumerate(self.users) if mix.fixed_count)
            problems.append(
                Problem(
                    ("users", index, "fixed_count"),
                    f"the fixed counts add up to {fixed} users, "
                    f"more than the load ever runs ({self.load.peak_users})",
                    fixed,
                )
            )
        return problems
