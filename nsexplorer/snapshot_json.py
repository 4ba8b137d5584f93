"""Snapshot <-> JSON, schema version 1 (filled in by the discovery work)."""
