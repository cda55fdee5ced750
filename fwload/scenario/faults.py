"""The scenario's ``faults:`` section: the model is `fwload.common.faults`, shared with the stand-in."""

from fwload.common.faults import (  # noqa: F401
    PERIOD_S,
    RATE,
    THROTTLE_SCOPES,
    Delay,
    ErrorFault,
    Faults,
    ImportFaults,
    RequestFault,
    RestartFault,
    ThrottleFault,
    Window,
    WorkerFault,
)
