"""The host backend: Funkwhale's components as systemd units, containers, cgroups or processes on
this machine (`HostCollector`), and what `fwload host detect` finds there (`detect`)."""

from fwload.collectors.host.collector import HostCollector
from fwload.collectors.host.components import SPEC_KINDS, ComponentSpec

__all__ = ["SPEC_KINDS", "ComponentSpec", "HostCollector"]
