"""Capacity from a step or ramp run: the highest load within SLOs, what saturates first, projections, right-sizing."""
