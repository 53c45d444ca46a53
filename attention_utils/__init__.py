"""attention_utils: the small library behind *Where to Look*, a book on attention mechanisms.

Each chapter builds a mechanism step by step in its cells; the finished piece lives here, once,
and later chapters import it. One module per topic, each with an explicit ``__all__``. The module
map (each module, what it holds, the chapter that teaches it and its test file) is in the
README, section "What changed in the library"; the one ``need_weights`` switch is documented in
:class:`~attention_utils.core.NeedWeightsMixin`.

The package's ``__all__`` lists every public name explicitly, topic by topic; it is exactly the
union of the modules' ``__all__`` lists (a test checks it), so a name is public here exactly when
its module says so.
"""

# vision: the modules split by topic, and the registry that imports the modules
from .bisenet import (  # noqa: E402
    AttentionRefinementModule,
    FeatureFusionModule,
)
from .checks import check_shape
from .cnn_attention import (
    GCT,
    FcaLayer,
    GSoP,
    dct_filters,
    fca_frequencies,
)
from .cnn_spatial import (
    DoubleAttention,
    ResidualAttentionModule,
    ReverseAttention,
    SpatialTransformer,
    affine_transform,
)
from .core import (
    NeedWeightsMixin,
    attention,
    attention_pool,
    masked_softmax,
    valid_lens_to_mask,
)
from .criss_cross import CrissCrossAttention  # noqa: E402
from .data import (
    ADJECTIVES,
    AGENT_ADJECTIVES,
    AGENTS,
    BABI_OBJECTS,
    BABI_PEOPLE,
    BABI_PLACES,
    LINKS,
    NOUNS,
    NUM_MARK_COLOURS,
    PLACE_ADJECTIVES,
    PLACES,
    VERBS,
    BabiData,
    ChannelShapesData,
    CoreferenceData,
    DictionaryLookupData,
    DistortedDigitsData,
    MarkedNeighbourData,
    RegressionData,
    RetrievalData,
    TranslationBatch,
    TranslationData,
    TranslationSplit,
    TwoMarksData,
    Vocab,
    babi_data,
    channel_shapes_data,
    coreference_data,
    decoder_inputs,
    dictionary_lookup_data,
    distorted_digits_data,
    kernel_regression_data,
    make_sentence,
    marked_neighbour_data,
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

# efficient attention
from .efficient import (
    flash_attention,
    online_softmax,
)
from .efficient_linear import (
    elu_feature_map,
    linear_attention,
    linear_attention_step,
)
from .encoder_decoder import EncoderDecoder, MaskedSoftmaxCELoss

# explorers
from .explorers import (
    Explorer,
    alignment_explorer,
    channel_spatial_explorer,
    cues_explorer,
    dropdown,
    efficient_explorer,
    graph_lookup_explorer,
    kernel_regression_explorer,
    kv_cache_explorer,
    make_explorer,
    multihead_explorer,
    non_local_explorer,
    pick,
    rope_explorer,
    scoring_explorer,
    slider,
    zoo_explorer,
)
from .extrapolation import (
    POSITION_METHODS,
    PositionalLM,
    accuracy_by_length,
    copy_back_data,
    train_lm,
)
from .graphs import (
    GraphAttention,
    GraphAttentionV2,
    GraphConvolution,
    dense_to_edge_index,
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
from .kv_cache import KVCache
from .memory import (
    MemoryNetwork,
    position_encoding,
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
from .positions import (
    ShawRelativePosition,
    T5RelativeBias,
    alibi_bias,
    alibi_slopes,
    apply_rotary,
    relative_position_bucket,
    relative_positions,
)
from .registry import (  # noqa: E402
    ATTENTION_MODULES,
    ATTENTION_PLACES,
    AttentionEntry,
    attention_entry,
    make_attention,
    register_attention,
)
from .resnet import (
    Bottleneck,
    ResNet,
    resnet50,
)
from .scoring import (
    AdditiveAttention,
    BilinearAttention,
    DotProductAttention,
)
from .selective_kernel import (  # noqa: E402
    SKConv,
    sk_resnet50,
)
from .seq2seq import (
    Seq2SeqAttentionDecoder,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
)
from .swin import (
    PatchMerging,
    SwinBlock,
    WindowAttention,
    relative_position_index,
    shifted_window_mask,
    swin_num_parameters,
    window_partition,
    window_reverse,
)
from .training import (
    TrainingHistory,
    train,
    warmup_lr,
    warmup_scheduler,
)
from .transformer import (
    TransformerEncoder,
    TransformerEncoderBlock,
)
from .transformer_decoder import (
    DecoderLayerCache,
    TransformerDecoder,
    TransformerDecoderBlock,
)
from .transformer_layers import (
    AddNorm,
    PositionalEncoding,
    PositionWiseFFN,
    SublayerConnection,
    embed_tokens,
)
from .transformer_model import (
    Transformer,
    TransformerState,
)
from .transformer_torch import TorchTransformer
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
from .windows import (
    RollingKVCache,
    sliding_window_attention,
    sliding_window_mask,
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
# Several names a line, topic by topic: the formatter leaves it so.
# fmt: off
__all__ = [
    # --- positions and locality (chapter 12): positions, swin, windows, extrapolation
    "alibi_bias", "alibi_slopes", "apply_rotary", "relative_position_bucket", "relative_positions",
    "ShawRelativePosition", "T5RelativeBias", "relative_position_index", "shifted_window_mask",
    "swin_num_parameters", "window_partition", "window_reverse", "PatchMerging", "SwinBlock",
    "WindowAttention", "sliding_window_attention", "sliding_window_mask", "RollingKVCache",
    "POSITION_METHODS", "accuracy_by_length", "copy_back_data", "train_lm", "PositionalLM",
    # checks
    "check_shape",
    # core
    "attention", "attention_pool", "masked_softmax", "valid_lens_to_mask", "NeedWeightsMixin",
    # cnn_attention
    "GCT", "dct_filters", "fca_frequencies", "FcaLayer", "GSoP",
    # cnn_spatial
    "affine_transform", "DoubleAttention", "ResidualAttentionModule", "ReverseAttention",
    "SpatialTransformer",
    # data
    "ADJECTIVES", "AGENTS", "AGENT_ADJECTIVES", "LINKS", "NOUNS", "NUM_MARK_COLOURS", "PLACES",
    "PLACE_ADJECTIVES", "VERBS", "channel_shapes_data", "coreference_data", "decoder_inputs",
    "distorted_digits_data", "kernel_regression_data", "make_sentence", "regression_truth",
    "retrieval_data", "translate", "translation_data", "two_marks_data", "ChannelShapesData",
    "CoreferenceData", "DistortedDigitsData", "RegressionData", "RetrievalData", "TranslationBatch",
    "TranslationData", "TranslationSplit", "TwoMarksData", "Vocab",
    # decoding
    "beam_search", "bleu", "exact_match", "greedy_decode",
    # efficient attention
    "elu_feature_map", "flash_attention", "linear_attention", "linear_attention_step",
    "online_softmax",
    # explorers
    "Explorer", "alignment_explorer", "channel_spatial_explorer", "cues_explorer", "dropdown",
    "efficient_explorer", "graph_lookup_explorer", "rope_explorer", "kernel_regression_explorer",
    "kv_cache_explorer", "make_explorer", "multihead_explorer", "non_local_explorer", "pick",
    "scoring_explorer", "slider", "zoo_explorer",
    # kernel_regression
    "KERNELS", "boxcar_kernel", "epanechnikov_kernel", "gaussian_kernel", "leave_one_out",
    "nadaraya_watson", "NWKernelRegression",
    # kv_cache
    "KVCache",
    # multihead
    "as_torch_multihead", "merge_heads", "split_heads", "MultiHeadAttention",
    # plotting
    "plot_lines", "plot_regression", "show_heatmaps",
    # resnet
    "resnet50", "Bottleneck", "ResNet",
    # scoring
    "AdditiveAttention", "BilinearAttention", "DotProductAttention",
    # seq2seq
    "EncoderDecoder", "MaskedSoftmaxCELoss", "Seq2SeqAttentionDecoder", "Seq2SeqDecoder",
    "Seq2SeqEncoder",
    # training
    "train", "TrainingHistory", "warmup_lr", "warmup_scheduler",
    # transformer
    "TransformerEncoder", "TransformerEncoderBlock",
    # transformer_decoder
    "DecoderLayerCache", "TransformerDecoder", "TransformerDecoderBlock",
    # transformer_layers
    "embed_tokens", "AddNorm", "PositionWiseFFN", "PositionalEncoding", "SublayerConnection",
    # transformer_model
    "Transformer", "TransformerState",
    # transformer_torch
    "TorchTransformer",
    # vision
    "CBAM", "ECA", "eca_kernel_size", "ChannelAttention", "SEBlock", "SimAM", "SpatialAttention",
    # vision_self_attention
    "NON_LOCAL_MODES", "DisentangledNonLocalBlock", "GlobalContextBlock", "NonLocalBlock",
    "PolarizedSelfAttention",
    # vit
    "vit_num_parameters", "OutlookAttention", "VisionTransformer",
    # vision: bisenet, criss_cross, registry, selective_kernel (split by topic)
    "AttentionRefinementModule", "FeatureFusionModule", "CrissCrossAttention", "ATTENTION_MODULES",
    "ATTENTION_PLACES", "attention_entry", "make_attention", "register_attention", "AttentionEntry",
    "SKConv", "sk_resnet50",
    # graphs and memory (chapter 11): data, graphs, memory
    "BABI_OBJECTS", "BABI_PEOPLE", "BABI_PLACES", "babi_data", "dictionary_lookup_data",
    "marked_neighbour_data", "BabiData", "DictionaryLookupData", "MarkedNeighbourData",
    "dense_to_edge_index", "GraphAttention", "GraphAttentionV2", "GraphConvolution",
    "MemoryNetwork", "position_encoding",
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
# fmt: on
