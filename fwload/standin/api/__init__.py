"""HTTP: one module per API area, plus the plumbing they share (auth, payload, errors,
pagination, JSON shapes)."""
