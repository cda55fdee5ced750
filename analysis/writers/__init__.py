"""Report writers (json, junit, markdown, html); importing this package registers them all."""

from analysis.writers import html, json, junit, markdown  # noqa: F401 - registration side effect
from analysis.writers.registry import Writer, all_writers, available, find

__all__ = ["Writer", "all_writers", "available", "find"]
