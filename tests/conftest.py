"""Shared pytest settings: hypothesis profiles and a non-interactive matplotlib backend."""

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# Deterministic by default so a red CI run can be replayed;
# `--hypothesis-profile=explore` to search more.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile("ci")
