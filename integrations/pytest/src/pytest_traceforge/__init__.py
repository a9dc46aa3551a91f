"""pytest-traceforge: one traceforge cassette per test (see the traceforge README, "pytest")."""

from .naming import cassette_name

__all__ = ["cassette_name"]
