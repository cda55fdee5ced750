"""Keep credentials out of reports, whatever a run directory holds.

The recorder already writes no secrets; reports scrub again (defence in depth), because
error texts and metadata come from servers and tools fwload does not control.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|api[_-]?key|credential", re.IGNORECASE
)
_PATTERNS = (
    (re.compile(r"(?i)(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {MASK}"),
    (re.compile(r"(?i)([?&](?:token|access_token|password|jwt)=)[^&\s\"']+"), rf"\1{MASK}"),
    (re.compile(r"(?i)(https?://)[^/@\s:]+:[^/@\s]+@"), r"\1"),
    (re.compile(r"(?i)((?:csrftoken|sessionid)=)[^;\s]+"), rf"\1{MASK}"),
)


def scrub(text: Any) -> str:
    """``text`` with bearer tokens, token query parameters, URL credentials and cookies masked."""
    result = "" if text is None else str(text)
    for pattern, replacement in _PATTERNS:
        result = pattern.sub(replacement, result)
    return result


def scrub_mapping(data: Any) -> Any:
    """A copy of nested metadata with secret-looking keys masked and every string scrubbed."""
    if isinstance(data, dict):
        return {
            key: MASK
            if _SECRET_KEY.search(str(key)) and value not in (None, "", False)
            else scrub_mapping(value)
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [scrub_mapping(item) for item in data]
    return scrub(data) if isinstance(data, str) else data
