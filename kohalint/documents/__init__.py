"""Parsed documents: each keeps line and column for what it yields."""
