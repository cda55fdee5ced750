"""Cross-field problems of scenario sections: defined in `fwload.common.problems`, shared with the fault model."""

from fwload.common.problems import PROBLEM_TYPE, Problem, raise_problems  # noqa: F401
