"""Persistence: SQLAlchemy models and the few functions that load and save a session."""
