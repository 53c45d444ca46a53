"""attention_utils: the small library behind *Where to Look*, a book on attention mechanisms.

Each chapter builds a mechanism step by step in its cells; the finished piece lives here, once,
and later chapters import it. One module per topic, each with an explicit ``__all__``:

- ``checks``: ``check_shape`` and the argument checks behind the library's error messages
- ``plotting``: heatmaps of attention weights and curves (chapter 01 on)
- ``data``: the book's synthetic datasets (regression, sentences, images), deterministic given a seed
- ``kernel_regression``: Nadaraya--Watson attention pooling (chapter 02)
- ``scoring``: masked softmax and the additive, dot-product and bilinear scores (chapter 03)
- ``multihead``: multi-head attention, positional encoding, the Transformer encoder block (chapter 04)
- ``vision``: SE, CBAM, ECA and SimAM, and a ResNet-50 builder (chapter 05)
- ``training``: the training loop the chapters share

The package's ``__all__`` is the union of the modules' ``__all__`` lists, so a name is public
here exactly when its module says so.
"""

from . import checks, data, kernel_regression, multihead, plotting, scoring, training, vision
from .checks import *  # noqa: F403
from .data import *  # noqa: F403
from .kernel_regression import *  # noqa: F403
from .multihead import *  # noqa: F403
from .plotting import *  # noqa: F403
from .scoring import *  # noqa: F403
from .training import *  # noqa: F403
from .vision import *  # noqa: F403

__version__ = "0.1.0"

_modules = [checks, data, kernel_regression, multihead, plotting, scoring, training, vision]
__all__ = sorted(name for module in _modules for name in module.__all__)
