"""attention_utils: the small library behind *Where to Look*, a book on attention mechanisms.

Each chapter builds a mechanism step by step in its cells; the finished piece lives here, once,
and later chapters import it. One module per topic, each with an explicit ``__all__``:

- ``checks``: ``check_shape`` and the argument checks behind the library's error messages
- ``plotting``: heatmaps of attention weights and curves (chapter 01 on)
- ``data``: the book's synthetic datasets (regression, retrieval, sentences, images), seeded
- ``kernel_regression``: Nadaraya--Watson attention pooling (chapter 02)
- ``scoring``: the attention core ``attention``, masked softmax and the additive, dot-product and
  bilinear scores (chapter 03); every later attention layer calls the core
- ``multihead``: multi-head attention, split and merge of heads (chapter 04)
- ``transformer``: positional encoding, the feed-forward network, Add & Norm and the Transformer
  encoder (chapter 04)
- ``vision``: SE, CBAM, ECA and SimAM, channel and spatial attention for CNNs (chapter 05)
- ``resnet``: the ResNet-50 backbone and the registry of where attention modules go (chapter 05)
- ``seq2seq``: the RNN encoder-decoder with and without Bahdanau attention, masked loss (chapter 06)
- ``decoding``: greedy decoding, beam search, BLEU and exact match (chapter 06)
- ``kv_cache``: the per-layer key-value cache of incremental decoding (chapter 07)
- ``transformer_decoder``: the Transformer decoder, the encoder-decoder ``Transformer``, its
  ``torch.nn.Transformer`` twin and the warm-up schedule (chapter 07)
- ``vision_self_attention``: Non-local, GC, DNL, criss-cross and polarized self-attention
  for CNN feature maps (chapter 08)
- ``vit``: outlook attention and the Vision Transformer (chapter 08)
- ``cnn_attention``: SK, GCT, GSoP and FcaNet, more channel attention for CNNs (chapter 09)
- ``cnn_spatial``: the spatial transformer, reverse attention, A2-Net, residual attention and
  BiSeNet's attention modules (chapter 09)
- ``efficient``: online softmax, tiled (Flash) attention with a recomputing backward, linear
  attention (chapter 10)
- ``training``: the training loop the chapters share
- ``captioning``: Show, attend and tell with soft, hard (REINFORCE) and uniform attention (ch. 13)
- ``explain``: attention rollout, map agreement, randomisation and adversarial attention (ch. 13)
- ``attribution``: saliency and integrated gradients through Captum, deletion curves (ch. 13)
- ``reinforce``: the score-function estimator and its moving-average baseline (ch. 13)
- ``explorers``: figures precomputed on a grid that a reader moves through on the static website
  with no kernel (Vega-Lite through Altair), one per chapter

The package's ``__all__`` lists every public name explicitly; it is exactly the union of the
modules' ``__all__`` lists (a test checks it), so a name is public here exactly when its module
says so.
"""
from .checks import (
    check_shape,
)
from .cnn_attention import (
    GCT,
    FcaLayer,
    GSoP,
    SKConv,
    dct_filters,
    fca_frequencies,
    sk_resnet50,
)
from .cnn_spatial import (
    AttentionRefinementModule,
    DoubleAttention,
    FeatureFusionModule,
    ResidualAttentionModule,
    ReverseAttention,
    SpatialTransformer,
    affine_transform,
)
from .data import (
    ADJECTIVES,
    AGENT_ADJECTIVES,
    AGENTS,
    LINKS,
    NOUNS,
    NUM_MARK_COLOURS,
    PLACE_ADJECTIVES,
    PLACES,
    VERBS,
    ChannelShapesData,
    CoreferenceData,
    DistortedDigitsData,
    RegressionData,
    RetrievalData,
    TranslationBatch,
    TranslationData,
    TranslationSplit,
    TwoMarksData,
    Vocab,
    channel_shapes_data,
    coreference_data,
    distorted_digits_data,
    kernel_regression_data,
    make_sentence,
    regression_truth,
    retrieval_data,
    translate,
    translation_data,
    two_marks_data,
)
from .decoding import (
    beam_search,
    bleu,
    exact_match,
    greedy_decode,
)
from .efficient import (
    elu_feature_map,
    flash_attention,
    linear_attention,
    online_softmax,
)

# explorers
from .explorers import (
    Explorer,
    alignment_explorer,
    channel_spatial_explorer,
    cues_explorer,
    dropdown,
    efficient_explorer,
    kernel_regression_explorer,
    kv_cache_explorer,
    make_explorer,
    multihead_explorer,
    non_local_explorer,
    pick,
    scoring_explorer,
    slider,
    zoo_explorer,
)
from .kernel_regression import (
    KERNELS,
    NWKernelRegression,
    boxcar_kernel,
    epanechnikov_kernel,
    gaussian_kernel,
    leave_one_out,
    nadaraya_watson,
)
from .kv_cache import (
    KVCache,
)
from .multihead import (
    MultiHeadAttention,
    as_torch_multihead,
    merge_heads,
    split_heads,
)
from .plotting import (
    plot_lines,
    plot_regression,
    show_heatmaps,
)
from .resnet import (
    ATTENTION_MODULES,
    ATTENTION_PLACES,
    AttentionEntry,
    Bottleneck,
    ResNet,
    make_attention,
    register_attention,
    resnet50,
)
from .scoring import (
    AdditiveAttention,
    BilinearAttention,
    DotProductAttention,
    attention,
    attention_pool,
    masked_softmax,
    valid_lens_to_mask,
)
from .seq2seq import (
    EncoderDecoder,
    MaskedSoftmaxCELoss,
    Seq2SeqAttentionDecoder,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
)
from .training import (
    TrainingHistory,
    train,
)
from .transformer import (
    AddNorm,
    PositionalEncoding,
    PositionWiseFFN,
    TransformerEncoder,
    TransformerEncoderBlock,
)
from .transformer_decoder import (
    DecoderLayerCache,
    TorchTransformer,
    Transformer,
    TransformerDecoder,
    TransformerDecoderBlock,
    warmup_lr,
    warmup_scheduler,
)
from .vision import (
    CBAM,
    ECA,
    ChannelAttention,
    SEBlock,
    SimAM,
    SpatialAttention,
    eca_kernel_size,
)
from .vision_self_attention import (
    NON_LOCAL_MODES,
    CrissCrossAttention,
    DisentangledNonLocalBlock,
    GlobalContextBlock,
    NonLocalBlock,
    PolarizedSelfAttention,
)
from .vit import (
    OutlookAttention,
    VisionTransformer,
    vit_num_parameters,
)

# isort: split
# --- where the model looks (chapter 13) ---
from .attribution import deletion_curve, integrated_gradients, random_ranking, saliency
from .captioning import (
    CaptionOutput,
    ShowAttendTell,
    caption_images,
    caption_loss,
    doubly_stochastic_penalty,
    score_function_variance,
)
from .data import COLOURS, SCENE_WORDS, SHAPES, SceneData, scene_data
from .explain import (
    adversarial_attention,
    attention_rollout,
    js_divergence,
    map_agreement,
    randomized_copy,
    rank_correlation,
)
from .explorers import rollout_explorer  # the explorer of chapter 13
from .reinforce import MovingAverageBaseline, reinforce_surrogate

__version__ = "0.1.0"

# Explicit, module by module; tests/test_package.py checks that it is exactly the union of the
# modules' own __all__ lists, with no name twice, and that every name a chapter uses is here.
__all__ = [
    # checks
    "check_shape",
    # cnn_attention
    "GCT",
    "dct_filters",
    "fca_frequencies",
    "sk_resnet50",
    "FcaLayer",
    "GSoP",
    "SKConv",
    # cnn_spatial
    "affine_transform",
    "AttentionRefinementModule",
    "DoubleAttention",
    "FeatureFusionModule",
    "ResidualAttentionModule",
    "ReverseAttention",
    "SpatialTransformer",
    # data
    "ADJECTIVES",
    "AGENTS",
    "AGENT_ADJECTIVES",
    "LINKS",
    "NOUNS",
    "NUM_MARK_COLOURS",
    "PLACES",
    "PLACE_ADJECTIVES",
    "VERBS",
    "channel_shapes_data",
    "coreference_data",
    "distorted_digits_data",
    "kernel_regression_data",
    "make_sentence",
    "regression_truth",
    "retrieval_data",
    "translate",
    "translation_data",
    "two_marks_data",
    "ChannelShapesData",
    "CoreferenceData",
    "DistortedDigitsData",
    "RegressionData",
    "RetrievalData",
    "TranslationBatch",
    "TranslationData",
    "TranslationSplit",
    "TwoMarksData",
    "Vocab",
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
    # explorers
    "Explorer",
    "alignment_explorer",
    "channel_spatial_explorer",
    "cues_explorer",
    "dropdown",
    "efficient_explorer",
    "kernel_regression_explorer",
    "kv_cache_explorer",
    "make_explorer",
    "multihead_explorer",
    "non_local_explorer",
    "pick",
    "scoring_explorer",
    "slider",
    "zoo_explorer",
    # kernel_regression
    "KERNELS",
    "boxcar_kernel",
    "epanechnikov_kernel",
    "gaussian_kernel",
    "leave_one_out",
    "nadaraya_watson",
    "NWKernelRegression",
    # kv_cache
    "KVCache",
    # multihead
    "as_torch_multihead",
    "merge_heads",
    "split_heads",
    "MultiHeadAttention",
    # plotting
    "plot_lines",
    "plot_regression",
    "show_heatmaps",
    # resnet
    "ATTENTION_MODULES",
    "ATTENTION_PLACES",
    "make_attention",
    "register_attention",
    "resnet50",
    "AttentionEntry",
    "Bottleneck",
    "ResNet",
    # scoring
    "attention",
    "attention_pool",
    "masked_softmax",
    "valid_lens_to_mask",
    "AdditiveAttention",
    "BilinearAttention",
    "DotProductAttention",
    # seq2seq
    "EncoderDecoder",
    "MaskedSoftmaxCELoss",
    "Seq2SeqAttentionDecoder",
    "Seq2SeqDecoder",
    "Seq2SeqEncoder",
    # training
    "train",
    "TrainingHistory",
    # transformer
    "AddNorm",
    "PositionWiseFFN",
    "PositionalEncoding",
    "TransformerEncoder",
    "TransformerEncoderBlock",
    # transformer_decoder
    "warmup_lr",
    "warmup_scheduler",
    "DecoderLayerCache",
    "TorchTransformer",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderBlock",
    # vision
    "CBAM",
    "ECA",
    "eca_kernel_size",
    "ChannelAttention",
    "SEBlock",
    "SimAM",
    "SpatialAttention",
    # vision_self_attention
    "NON_LOCAL_MODES",
    "CrissCrossAttention",
    "DisentangledNonLocalBlock",
    "GlobalContextBlock",
    "NonLocalBlock",
    "PolarizedSelfAttention",
    # vit
    "vit_num_parameters",
    "OutlookAttention",
    "VisionTransformer",
    # --- where the model looks (chapter 13): attribution, captioning, data.scenes, explain,
    # reinforce
    "CaptionOutput",
    "ShowAttendTell",
    "caption_images",
    "caption_loss",
    "doubly_stochastic_penalty",
    "score_function_variance",
    "COLOURS",
    "SCENE_WORDS",
    "SHAPES",
    "SceneData",
    "scene_data",
    "adversarial_attention",
    "attention_rollout",
    "deletion_curve",
    "integrated_gradients",
    "js_divergence",
    "map_agreement",
    "random_ranking",
    "rollout_explorer",
    "randomized_copy",
    "rank_correlation",
    "saliency",
    "MovingAverageBaseline",
    "reinforce_surrogate",
]
