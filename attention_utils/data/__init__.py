"""Every dataset the book uses: synthetic, made on the spot, deterministic given a seed.

One file per dataset family, named for what it holds; this package re-exports their public names,
so ``from attention_utils.data import kernel_regression_data`` and ``from attention_utils import
kernel_regression_data`` both work. Nothing here downloads anything.

- ``regression``: y = 2 sin(x) + x^0.8 + eps, chapter 02 (Nadaraya--Watson attention pooling)
- ``coreference``: sentences in which an adjective decides what "it" refers to, chapter 04
- ``shapes``: images whose class lives in one channel among cluttered ones, chapter 05
- ``digits``: scikit-learn's bundled digits, randomly rotated, scaled and shifted, chapter 09
"""

from . import coreference, digits, regression, shapes
from .coreference import *  # noqa: F403
from .digits import *  # noqa: F403
from .regression import *  # noqa: F403
from .shapes import *  # noqa: F403

__all__ = sorted(name for module in (coreference, digits, regression, shapes) for name in module.__all__)
