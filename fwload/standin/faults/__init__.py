"""Fault injection: the stand-in made sick on purpose, so the suite's handling of a sick target is testable.

What can go wrong is a scenario's ``faults:`` section (`fwload.common.faults.Faults`),
given in a scenario, as ``fwload standin --fault`` options (`syntax`) or at runtime through
the admin endpoints (`admin`, `client`). Where it happens, so both stand-in modes obey:

- `middleware`: every HTTP request — latency, 5xx errors, Funkwhale's 429 throttling
  (`throttle`, `answers`), connection resets — and the per-group counts (`counts`);
- `imports`: the import task — slow, errored, stuck, or a dead worker;
- the launcher (`fwload.standin.launcher`, `lifecycle`): restarts of the API.

Every process of one stand-in shares the plan through its data directory (`board`).
"""

from fwload.standin.faults.runtime import FaultRuntime

__all__ = ["FaultRuntime"]
