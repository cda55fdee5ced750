"""Scenario validation errors as ``field.path: what is wrong; what is allowed``, user options included.

The rewriting is `fwload.common.messages` (the stand-in's fault admin uses it too); here it
learns the options of the scenario's user classes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from fwload.common.messages import describe as _describe
from fwload.users.options import USER_CLASS_OPTIONS


def describe(error: ValidationError, root: type[BaseModel], raw: Any) -> list[str]:
    """One ``path: message`` line per problem; a user's ``options:`` are checked against its class."""
    return _describe(error, root, raw, USER_CLASS_OPTIONS)
