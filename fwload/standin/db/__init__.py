"""Storage of the stand-in: table definitions and the engine (any SQLAlchemy URL)."""
