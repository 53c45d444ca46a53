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
- ``resnet``: the ResNet-50 backbone and the registry of where each attention module goes (chapter 05)
- ``cnn_attention``: SK, GCT, GSoP and FcaNet, the channel family of chapter 09
- ``cnn_spatial``: STN, reverse attention, A²-Net, Residual Attention and BiSeNet's modules (chapter 09)
- ``training``: the training loop the chapters share

The package's ``__all__`` lists every public name explicitly; it is exactly the union of the
modules' ``__all__`` lists (a test checks it), so a name is public here exactly when its module
says so.
"""

from . import (
    checks,
    cnn_attention,
    cnn_spatial,
    data,
    kernel_regression,
    multihead,
    plotting,
    resnet,
    scoring,
    training,
    transformer,
    vision,
)
from .checks import *  # noqa: F403
from .cnn_attention import *  # noqa: F403
from .cnn_spatial import *  # noqa: F403
from .data import *  # noqa: F403
from .kernel_regression import *  # noqa: F403
from .multihead import *  # noqa: F403
from .plotting import *  # noqa: F403
from .resnet import *  # noqa: F403
from .scoring import *  # noqa: F403
from .training import *  # noqa: F403
from .transformer import *  # noqa: F403
from .vision import *  # noqa: F403

__version__ = "0.1.0"

# Explicit, module by module; tests/test_package.py checks that it is exactly the union of the
# modules' own __all__ lists, with no name twice, and that every name a chapter imports is here.
__all__ = [
    # checks
    "check_shape",
    # cnn_attention
    "FcaLayer",
    "GCT",
    "GSoP",
    "SKConv",
    "dct_filters",
    "fca_frequencies",
    "sk_resnet50",
    # cnn_spatial
    "AttentionRefinementModule",
    "DoubleAttention",
    "FeatureFusionModule",
    "ResidualAttentionModule",
    "ReverseAttention",
    "SpatialTransformer",
    "affine_transform",
    # data
    "AGENTS",
    "AGENT_ADJECTIVES",
    "ChannelShapesData",
    "CoreferenceData",
    "DistortedDigitsData",
    "PLACES",
    "PLACE_ADJECTIVES",
    "RegressionData",
    "VERBS",
    "channel_shapes_data",
    "coreference_data",
    "distorted_digits_data",
    "kernel_regression_data",
    "make_sentence",
    "regression_truth",
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
]
