"""Right-sizing from a longer history than the run (``resource_history.csv``), component by component."""

from __future__ import annotations

import math

import pandas as pd

from analysis.capacity.rightsizing import HISTORY_CAVEAT, history_of, recommendations

MI = 1024**2


def frame(rows: list[tuple[float, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ts", "component", "cpu_m", "memory_bytes"])


def test_history_sizes_the_components_it_holds_and_the_run_sizes_the_others():
    run = frame([(t, "api", 100.0, 200 * MI) for t in range(10)] + [(t, "nginx", 10.0, 20 * MI) for t in range(10)])
    long = frame([(t * 60.0, "api", 100.0 + t, 300 * MI) for t in range(100)])
    history = history_of(long, {"resource_history": {"source": "prometheus", "start": 0, "end": 86400 * 7,
                                                     "step_s": 120}})
    sized = recommendations(run, pd.DataFrame(), history=history).set_index("component")
    api, nginx = sized.loc["api"], sized.loc["nginx"]
    assert (api["window"], api["cpu_samples"]) == ("7d history", 100)
    assert api["krr_cpu_request_m"] == 100 + 94 and api["krr_memory_bytes"] == math.ceil(300 * 1.15) * MI
    assert api["caveats"][0].startswith("computed from 7d of Prometheus history (100 samples at a 2m step")
    assert (nginx["window"], nginx["cpu_samples"], nginx["caveats"][0]) == ("load test", 10, HISTORY_CAVEAT)


def test_no_history_rows_or_no_description_means_no_history():
    rows = frame([(0.0, "api", 1.0, 1.0)])
    assert history_of(rows.iloc[0:0], {"resource_history": {"source": "prometheus"}}) is None
    assert history_of(rows, {}) is None
