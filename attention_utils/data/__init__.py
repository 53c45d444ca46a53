"""Every dataset the book uses: synthetic, made on the spot, deterministic given a seed.

One file per dataset family, named for what it holds; this package re-exports their public names,
so ``from attention_utils.data import kernel_regression_data`` and ``from attention_utils import
kernel_regression_data`` both work. Nothing here downloads anything.

- ``regression``: y = 2 sin(x) + x^0.8 + eps, chapter 02 (Nadaraya--Watson attention pooling)
- ``coreference``: sentences in which an adjective decides what "it" refers to, chapter 04
- ``marks``: two marks far apart, same shape or not, chapter 08
- ``shapes``: images whose class lives in one channel among cluttered ones, chapter 05
"""

from . import coreference, marks, regression, shapes
from .coreference import *  # noqa: F403
from .marks import *  # noqa: F403
from .regression import *  # noqa: F403
from .shapes import *  # noqa: F403

__all__ = sorted(name for module in (coreference, marks, regression, shapes) for name in module.__all__)
