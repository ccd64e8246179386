"""Hypothesis budgets for the hostile suite, as profiles: `ci` (default;
fixed, derandomized, 100 examples), `nightly` (HYPOTHESIS_PROFILE=nightly,
2000 random examples) and `dev` (20). The tests pick them up through
`tests.hostile.strategies.budget`, so other suites keep their own settings.
The property tests carry the `slow` marker: `-m "not slow"` skips them."""

from __future__ import annotations

from tests.hostile.strategies import register_profiles

register_profiles()
