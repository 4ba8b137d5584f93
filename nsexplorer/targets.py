"""Resolving a TARGET string to one namespace (filled in by the discovery work)."""
