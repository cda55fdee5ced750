"""The configuration every scenario section shares: defined in `fwload.common.section`."""

from fwload.common.section import Section  # noqa: F401
