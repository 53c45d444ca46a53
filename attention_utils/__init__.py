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
- ``kv_cache``: the key-value cache of incremental decoding (chapter 07)
- ``transformer``: positional encoding, the feed-forward network, Add & Norm and the Transformer
  encoder (chapter 04)
- ``transformer_decoder``: the decoder, the encoder-decoder ``Transformer``, its twin built on
  ``torch.nn.Transformer``, greedy decoding with KV caches and the warm-up schedule (chapter 07)
- ``vision``: SE, CBAM, ECA and SimAM, channel and spatial attention for CNNs (chapter 05)
- ``resnet``: the ResNet-50 backbone and the registry of where each attention module goes (chapter 05)
- ``seq2seq``: the RNN encoder-decoder with and without Bahdanau attention, masked loss (chapter 06)
- ``decoding``: greedy decoding, beam search, BLEU and exact match (chapter 06)
- ``training``: the training loop the chapters share
- ``efficient``: online softmax, tiled (flash) attention and linear attention (chapter 10)

The package's ``__all__`` lists every public name explicitly; it is exactly the union of the
modules' ``__all__`` lists (a test checks it), so a name is public here exactly when its module
says so.
"""

from . import (
    checks,
    data,
    decoding,
    efficient,
    kernel_regression,
    kv_cache,
    multihead,
    plotting,
    resnet,
    scoring,
    seq2seq,
    training,
    transformer,
    transformer_decoder,
    vision,
)
from .checks import *  # noqa: F403
from .data import *  # noqa: F403
from .decoding import *  # noqa: F403
from .efficient import *  # noqa: F403
from .kernel_regression import *  # noqa: F403
from .kv_cache import *  # noqa: F403
from .multihead import *  # noqa: F403
from .plotting import *  # noqa: F403
from .resnet import *  # noqa: F403
from .scoring import *  # noqa: F403
from .seq2seq import *  # noqa: F403
from .training import *  # noqa: F403
from .transformer import *  # noqa: F403
from .transformer_decoder import *  # noqa: F403
from .vision import *  # noqa: F403

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
    "PLACES",
    "PLACE_ADJECTIVES",
    "RegressionData",
    "VERBS",
    "ADJECTIVES",
    "LINKS",
    "NOUNS",
    "TranslationBatch",
    "TranslationData",
    "TranslationSplit",
    "Vocab",
    "translate",
    "translation_data",
    "channel_shapes_data",
    "coreference_data",
    "kernel_regression_data",
    "make_sentence",
    "regression_truth",
    # decoding
    "beam_search",
    "bleu",
    "exact_match",
    "greedy_decode",
    # efficient
    "elu_feature_map",
    "flash_attention",
    "linear_attention",
    "online_softmax",
    # kernel_regression
    "KERNELS",
    "NWKernelRegression",
    "boxcar_kernel",
    "epanechnikov_kernel",
    "gaussian_kernel",
    "leave_one_out",
    "nadaraya_watson",
    # kv_cache
    "KVCache",
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
    # seq2seq
    "EncoderDecoder",
    "MaskedSoftmaxCELoss",
    "Seq2SeqAttentionDecoder",
    "Seq2SeqDecoder",
    "Seq2SeqEncoder",
    # training
    "TrainingHistory",
    "train",
    # transformer
    "AddNorm",
    "PositionWiseFFN",
    "PositionalEncoding",
    "TransformerEncoder",
    "TransformerEncoderBlock",
    # transformer_decoder
    "DecoderLayerCache",
    "TorchTransformer",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderBlock",
    "warmup_lr",
    "warmup_scheduler",
    # vision
    "CBAM",
    "ChannelAttention",
    "ECA",
    "SEBlock",
    "SimAM",
    "SpatialAttention",
    "eca_kernel_size",
]
