"""Instance preferences (Funkwhale's dynamic preferences): defaults, stored values, API shape.

Only the preferences the stand-in acts on or that clients commonly read are registered.
Each serialises like real Funkwhale's (sample 04/05): section, name, identifier, default,
value, verbose_name, help_text, additional_data and a description of the form field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select

from fwload.standin.db.tables import preferences

Kind = Literal["bool", "int", "str", "text"]

_FIELDS: dict[Kind, dict[str, Any]] = {
    "bool": {"class": "BooleanField", "widget": {"class": "CheckboxInput"}, "input_type": "checkbox"},
    "int": {"class": "IntegerField", "widget": {"class": "NumberInput"}, "input_type": "number"},
    "str": {"class": "CharField", "widget": {"class": "TextInput"}, "input_type": "text"},
    "text": {"class": "CharField", "widget": {"class": "Textarea"}, "input_type": None},
}


@dataclass(frozen=True)
class Preference:
    section: str
    name: str
    kind: Kind
    default: Any
    verbose_name: str
    help_text: str | None = None

    @property
    def identifier(self) -> str:
        return f"{self.section}__{self.name}"

    def coerce(self, value: Any) -> Any:
        """The stored form of an admin-supplied value, or ValueError saying what is expected."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError("Must be a valid boolean.")
        if self.kind == "int":
            if isinstance(value, bool):
                raise ValueError("A valid integer is required.")
            try:
                return int(value)
            except (TypeError, ValueError):
                raise ValueError("A valid integer is required.") from None
        if isinstance(value, str):
            return value
        raise ValueError("Not a valid string.")

    def describe(self, value: Any) -> dict[str, Any]:
        return {
            "section": self.section,
            "name": self.name,
            "identifier": self.identifier,
            "default": self.default,
            "value": value,
            "verbose_name": self.verbose_name,
            "help_text": self.help_text,
            "additional_data": {},
            "field": dict(_FIELDS[self.kind]),
        }


REGISTRY: dict[str, Preference] = {
    p.identifier: p
    for p in (
        Preference("audio", "max_channels", "int", 20, "Max channels allowed per user"),
        Preference(
            "common",
            "api_authentication_required",
            "bool",
            True,
            "API Requires authentication",
            "If disabled, anonymous users will be able to query the API and access music data "
            "(as well as other data exposed in the API).",
        ),
        Preference(
            "federation",
            "music_cache_duration",
            "int",
            2880,
            "Music cache duration",
            "How many minutes do you want to keep a copy of federated tracks locally? Federated files "
            "that were not listened in this interval will be erased and refetched from the remote on the "
            "next listening.",
        ),
        Preference("instance", "contact_email", "str", "", "Contact email"),
        Preference(
            "instance", "funkwhale_support_message_enabled", "bool", True, "Funkwhale Support message"
        ),
        Preference("instance", "long_description", "text", "", "Long description"),
        Preference("instance", "name", "str", "", "Public name"),
        Preference("instance", "rules", "text", "", "Rules"),
        Preference("instance", "short_description", "str", "", "Short description"),
        Preference("instance", "support_message", "text", "", "Support message"),
        Preference("instance", "terms", "text", "", "Terms of service"),
        Preference("moderation", "allow_list_enabled", "bool", False, "Enable allow-listing"),
        Preference(
            "moderation", "signup_approval_enabled", "bool", False, "Enable manual sign-up validation"
        ),
        Preference("music", "transcoding_enabled", "bool", True, "Transcoding enabled"),
        Preference("playlists", "max_tracks", "int", 250, "Max tracks per playlist"),
        Preference("subsonic", "enabled", "bool", True, "Enabled Subsonic API"),
        Preference(
            "users",
            "registration_enabled",
            "bool",
            False,
            "Open registrations to new users",
            "When enabled, new users will be able to register on this instance.",
        ),
        Preference(
            "users",
            "upload_quota",
            "int",
            1000,
            "Upload quota",
            "Default upload quota applied to each users, in MB. This can be overridden on a per-user basis.",
        ),
    )
}


def get(conn: Connection, identifier: str) -> Any:
    stored = conn.execute(select(preferences.c.value).where(preferences.c.identifier == identifier)).first()
    return REGISTRY[identifier].default if stored is None else stored.value


def values(conn: Connection) -> dict[str, Any]:
    stored = {row.identifier: row.value for row in conn.execute(select(preferences))}
    return {key: stored.get(key, pref.default) for key, pref in REGISTRY.items()}


def set_value(conn: Connection, identifier: str, value: Any) -> None:
    table = preferences
    updated = conn.execute(table.update().where(table.c.identifier == identifier).values(value=value))
    if updated.rowcount == 0:
        conn.execute(table.insert().values(identifier=identifier, value=value))


def describe_all(conn: Connection) -> list[dict[str, Any]]:
    current = values(conn)
    return [REGISTRY[key].describe(current[key]) for key in sorted(REGISTRY)]
