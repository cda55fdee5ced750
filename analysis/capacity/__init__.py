"""Capacity from a step or ramp run: highest load within SLOs, first saturation, projections, right-sizing."""
