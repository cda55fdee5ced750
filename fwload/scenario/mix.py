"""``users:`` — the mix of virtual user classes, each with its own validated options."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from fwload.scenario.section import Section
from fwload.users.options import USER_CLASS_OPTIONS


class UserMix(Section):
    """One user class in the mix; ``options`` is checked by that class's own model."""

    class_name: str = Field(
        alias="class",
        description="User class name; one of " + ", ".join(USER_CLASS_OPTIONS) + ".",
    )
    weight: int = Field(
        1, ge=1, le=1000, description="Relative share of the users this class gets (Locust weight)."
    )
    fixed_count: int | None = Field(
        None,
        ge=0,
        description="Exactly this many users of the class, taken before the weights "
        "share out the rest (Locust fixed_count); null = by weight.",
    )
    options: Any = Field(
        default_factory=dict,
        validate_default=True,
        description="Options of the class (see fwload.users.options); omitted keys take their defaults.",
    )

    @field_validator("class_name")
    @classmethod
    def _known_class(cls, name: str) -> str:
        if name not in USER_CLASS_OPTIONS:
            raise ValueError(f"unknown user class {name!r}; known: {', '.join(USER_CLASS_OPTIONS)}")
        return name

    @field_validator("options", mode="before")
    @classmethod
    def _options_of_the_class(cls, options: Any, info: ValidationInfo) -> Any:
        model = USER_CLASS_OPTIONS.get(info.data.get("class_name", ""))
        if model is None:
            return options  # the class itself is already reported
        if options is None:
            options = {}
        return model.model_validate(options)
