"""attention_utils: the small library behind *Where to Look*, a book on attention mechanisms.

Each chapter builds a mechanism step by step in its cells; the finished piece lives here, once,
and later chapters import it. One module per topic, each with an explicit ``__all__``:

- ``checks``: ``check_shape`` and the argument checks behind the library's error messages
- ``plotting``: heatmaps of attention weights and curves (chapter 01 on)
- ``data``: the book's synthetic datasets (regression, sentences, images), deterministic given a seed
- ``kernel_regression``: Nadaraya--Watson attention pooling (chapter 02)
- ``scoring``: the attention core ``attention``, masked softmax and the additive, dot-product and
  bilinear scores (chapter 03); every later attention layer calls the core
- ``multihead``: multi-head attention, split and merge of heads (chapter 04)
- ``transformer``: positional encoding, the feed-forward network, Add & Norm and the Transformer
  encoder (chapter 04; Part II adds the decoder)
- ``vision``: SE, CBAM, ECA and SimAM, channel and spatial attention for CNNs (chapter 05)
- ``vision_self_attention``: Non-local, GC, DNL, criss-cross and polarized self-attention (chapter 08)
- ``vit``: Outlook attention and the Vision Transformer (chapter 08)
- ``resnet``: the ResNet-50 backbone and the registry of where each attention module goes (chapter 05)
- ``training``: the training loop the chapters share

The package's ``__all__`` lists every public name explicitly; it is exactly the union of the
modules' ``__all__`` lists (a test checks it), so a name is public here exactly when its module
says so.
"""

from . import (
    checks,
    data,
    kernel_regression,
    multihead,
    plotting,
    resnet,
    scoring,
    training,
    transformer,
    vision,
    vision_self_attention,
    vit,
)
from .checks import *  # noqa: F403
from .data import *  # noqa: F403
from .kernel_regression import *  # noqa: F403
from .multihead import *  # noqa: F403
from .plotting import *  # noqa: F403
from .resnet import *  # noqa: F403
from .scoring import *  # noqa: F403
from .training import *  # noqa: F403
from .transformer import *  # noqa: F403
from .vision import *  # noqa: F403
from .vision_self_attention import *  # noqa: F403
from .vit import *  # noqa: F403

__version__ = "0.1.0"

# Explicit, module by module; tests/test_package.py checks that it is exactly the union of the
# modules' own __all__ lists, with no name twice, and that every name a chapter imports is here.
__all__ = [
    # checks
    "check_shape",
    # data
    "AGENTS",
    "AGENT_ADJECTIVES",
    "ChannelShapesData",
    "CoreferenceData",
    "NUM_MARK_COLOURS",
    "PLACES",
    "PLACE_ADJECTIVES",
    "RegressionData",
    "TwoMarksData",
    "VERBS",
    "channel_shapes_data",
    "coreference_data",
    "kernel_regression_data",
    "make_sentence",
    "regression_truth",
    "two_marks_data",
    # kernel_regression
    "KERNELS",
    "NWKernelRegression",
    "boxcar_kernel",
    "epanechnikov_kernel",
    "gaussian_kernel",
    "leave_one_out",
    "nadaraya_watson",
    # multihead
    "MultiHeadAttention",
    "as_torch_multihead",
    "merge_heads",
    "split_heads",
    # plotting
    "plot_lines",
    "plot_regression",
    "show_heatmaps",
    # resnet
    "ATTENTION_MODULES",
    "ATTENTION_PLACES",
    "AttentionEntry",
    "Bottleneck",
    "ResNet",
    "make_attention",
    "register_attention",
    "resnet50",
    # scoring
    "AdditiveAttention",
    "BilinearAttention",
    "DotProductAttention",
    "attention",
    "masked_softmax",
    "valid_lens_to_mask",
    # training
    "TrainingHistory",
    "train",
    # transformer
    "AddNorm",
    "PositionWiseFFN",
    "PositionalEncoding",
    "TransformerEncoder",
    "TransformerEncoderBlock",
    # vision
    "CBAM",
    "ChannelAttention",
    "ECA",
    "SEBlock",
    "SimAM",
    "SpatialAttention",
    "eca_kernel_size",
    # vision_self_attention
    "NON_LOCAL_MODES",
    "CrissCrossAttention",
    "DisentangledNonLocalBlock",
    "GlobalContextBlock",
    "NonLocalBlock",
    "PolarizedSelfAttention",
    # vit
    "OutlookAttention",
    "VisionTransformer",
    "vit_num_parameters",
]
