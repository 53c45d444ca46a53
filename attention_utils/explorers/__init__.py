"""Explorers: figures precomputed with the library that a reader moves through with no kernel.

``core`` holds the helper (:class:`Explorer`, :func:`slider`, :func:`dropdown`, :func:`pick`,
:func:`make_explorer`); ``foundations`` the explorers of chapters 01-05, ``applications`` those of
chapters 06-10, ``part3_graphs`` that of chapter 11, ``beyond`` that of chapter 12,
``part3_explain`` that of chapter 13. README, "Explorers", says how a chapter adds one.
"""

from .applications import (
    alignment_explorer,
    efficient_explorer,
    kv_cache_explorer,
    non_local_explorer,
    zoo_explorer,
)
from .beyond import rope_explorer
from .core import Explorer, dropdown, make_explorer, pick, slider
from .foundations import (
    channel_spatial_explorer,
    cues_explorer,
    kernel_regression_explorer,
    multihead_explorer,
    scoring_explorer,
)
from .part3_explain import rollout_explorer

# chapter 11: graphs and memory
from .part3_graphs import graph_lookup_explorer

__all__ = [
    "Explorer",
    "alignment_explorer",
    "channel_spatial_explorer",
    "cues_explorer",
    "dropdown",
    "efficient_explorer",
    "graph_lookup_explorer",
    "kernel_regression_explorer",
    "kv_cache_explorer",
    "make_explorer",
    "multihead_explorer",
    "non_local_explorer",
    "pick",
    "rope_explorer",
    "rollout_explorer",
    "scoring_explorer",
    "slider",
    "zoo_explorer",
]
