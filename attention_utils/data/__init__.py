"""Every dataset the book uses: synthetic or bundled, made on the spot, deterministic given a seed.

One file per dataset family, named for what it holds; this package re-exports their public names,
so ``from attention_utils.data import kernel_regression_data`` and ``from attention_utils import
kernel_regression_data`` both work. Nothing here downloads anything.

- ``regression``: y = 2 sin(x) + x^0.8 + eps, chapter 02 (Nadaraya--Watson attention pooling)
- ``retrieval``: queries that name one key each, whose value is the answer, chapter 03
- ``coreference``: sentences in which an adjective decides what "it" refers to, chapter 04
- ``shapes``: images whose class lives in one channel among cluttered ones, chapter 05
- ``translation``: English noun phrases into a toy French that reorders them, chapter 06 on
- ``teacher_forcing``: the decoder's inputs for teacher forcing (the target shifted right)
- ``marks``: two coloured marks far apart on a small image, same colour or not, chapter 08
- ``digits``: scikit-learn's bundled digits, randomly rotated, scaled and shifted, chapter 09
- ``graphs``: a graph labelled by one marked neighbour, GATv2's dictionary lookup, chapter 11
- ``babi``: bAbI-style stories with one or two supporting facts, chapter 11
- ``scenes``: two coloured shapes on a 3 x 3 grid and the caption that names them, chapter 13
"""

from . import (
    babi,  # graphs and memory
    coreference,
    digits,
    graphs,  # graphs and memory
    marks,
    regression,
    retrieval,
    scenes,  # where the model looks
    shapes,
    teacher_forcing,
    translation,
)
from .babi import *  # noqa: F403
from .coreference import *  # noqa: F403
from .digits import *  # noqa: F403
from .graphs import *  # noqa: F403
from .marks import *  # noqa: F403
from .regression import *  # noqa: F403
from .retrieval import *  # noqa: F403
from .scenes import *  # noqa: F403
from .shapes import *  # noqa: F403
from .teacher_forcing import *  # noqa: F403
from .translation import *  # noqa: F403

__all__ = sorted(
    name
    for module in (
        coreference,
        digits,
        marks,
        regression,
        retrieval,
        shapes,
        teacher_forcing,
        translation,
        babi,
        graphs,
        scenes,
    )
    for name in module.__all__
)
