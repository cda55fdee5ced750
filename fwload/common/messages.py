"""Pydantic validation errors rewritten as ``field.path: what is wrong; what is allowed``.

Pydantic's own text names types and error codes; a person editing a YAML file needs the
field as written in the file (``users[1].class``), the value they wrote and the choices.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from fwload.common.problems import PROBLEM_TYPE

_KEY = "[key]"


def field_path(loc: tuple[str | int, ...]) -> str:
    """``("users", 1, "class")`` → ``users[1].class``."""
    path = ""
    for part in loc:
        if part == _KEY:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def describe(
    error: ValidationError, root: type[BaseModel], raw: Any, option_models: Mapping[str, Any] | None = None
) -> list[str]:
    """One ``path: message`` line per problem, in the order pydantic found them, without repeats.

    ``option_models`` types an ``options:`` mapping by its sibling ``class:`` (the scenario's user
    classes), so an unknown option is named with the allowed ones.
    """
    details = error.errors(include_url=False)
    inner = {tuple(detail["loc"]) for detail in details}
    lines: list[str] = []
    for detail in details:
        loc = tuple(detail["loc"])
        if detail["type"] == "too_short" and any(
            other[: len(loc)] == loc and other != loc for other in inner
        ):
            continue  # pydantic also counts the bad items as missing; the items' own errors say more
        path = field_path(loc)
        message = _message(detail, root, raw, option_models or {})
        line = f"{path}: {message}" if path else message
        if line not in lines:
            lines.append(line)
    return lines


def _message(detail: Any, root: type[BaseModel], raw: Any, option_models: Mapping[str, Any]) -> str:
    kind, loc, value = detail["type"], tuple(detail["loc"]), detail.get("input")
    if kind == "extra_forbidden" or (loc and loc[-1] == _KEY):
        key = loc[-2] if loc[-1] == _KEY else loc[-1]
        parent = loc[:-2] if loc[-1] == _KEY else loc[:-1]
        allowed = _allowed_keys(root, raw, parent, option_models, dict_keys=loc[-1] == _KEY)
        return _unknown_key(str(key), allowed)
    if kind == "missing":
        return "required, but missing"
    if kind == "literal_error":
        return f"got {_show(value)}; allowed: {detail['ctx']['expected']}"
    message = detail["msg"]
    if _annotation_at(root, raw, loc, option_models) is SecretStr:
        return message.removeprefix("Input ") + " (value hidden)"
    if kind == PROBLEM_TYPE:
        return message
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    for subject in ("Input ", "String ", "List ", "Tuple ", "Dictionary "):
        if message.startswith(subject + "should"):
            message = message.removeprefix(subject)
            break
    message = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping (key: value)", message)
    return f"{message} (got {_show(value)})"


def _unknown_key(key: str, allowed: list[str]) -> str:
    if not allowed:
        return "unknown key"
    hint = difflib.get_close_matches(key, allowed, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown key{suggestion}; allowed: {', '.join(allowed)}"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(
    root: type[BaseModel], raw: Any, loc: tuple[str | int, ...], option_models: Mapping[str, Any], *,
    dict_keys: bool,
) -> list[str]:
    """The keys the file may use at ``loc``: a model's field names, or a dict's allowed keys."""
    annotation = _annotation_at(root, raw, loc, option_models)
    if dict_keys:
        key_type = typing.get_args(annotation)[0] if typing.get_args(annotation) else Any
        return [str(choice) for choice in typing.get_args(key_type)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    return []


def _annotation_at(
    root: type[BaseModel], raw: Any, loc: tuple[str | int, ...], option_models: Mapping[str, Any]
) -> Any:
    """The declared type at ``loc``, following the raw data where the type depends on it."""
    annotation: Any = root
    node = raw
    for part in loc:
        if part == _KEY:
            return Any
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = _field_annotation(annotation, str(part), node, option_models)
        else:
            args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
            annotation = args[-1] if args else Any
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return _unwrap(annotation)


def _field_annotation(model: type[BaseModel], key: str, node: Any, option_models: Mapping[str, Any]) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            if name == "options" and isinstance(node, dict):
                return option_models.get(str(node.get("class")), Any)
            return field.annotation
    return Any


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` to the type that holds the keys."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = options[0] if len(options) == 1 else Any
        else:
            return annotation
