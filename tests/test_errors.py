"""Every public constructor and function, fed bad arguments, raises the documented error.

The rule (attention_utils/checks.py): TypeError for a wrong type, ValueError for a wrong value,
and the message names the argument. Each case below is (public name, call, error, pattern); the
pattern always contains the argument's name. ``test_every_public_callable_is_walked`` fails when a
new public name has no case here.
"""

import inspect

import pytest
import torch
from torch import nn

import attention_utils as au

F32 = torch.float32


def _qkv(batch_size=2, num_queries=3, num_keys=4, d=4, value_size=2, dtype=F32):
    g = torch.Generator().manual_seed(0)
    return (
        torch.randn(batch_size, num_queries, d, generator=g, dtype=dtype),
        torch.randn(batch_size, num_keys, d, generator=g, dtype=dtype),
        torch.randn(batch_size, num_keys, value_size, generator=g, dtype=dtype),
    )


Q, K, V = _qkv()
IMAGE = torch.randn(2, 8, 5, 5)
X8 = torch.randn(2, 3, 8)
X32 = torch.randn(1, 32, 6, 6)
LONG = torch.ones(2, 3, dtype=torch.long)
DATA = au.coreference_data()


def _net_and_optimizer():
    net = nn.Linear(3, 1)
    return net, torch.optim.SGD(net.parameters(), lr=0.1)


def _train(**overrides):
    net, optimizer = _net_and_optimizer()
    args = dict(
        net=net,
        loss_fn=lambda p, t: ((p.squeeze(-1) - t) ** 2).mean(),
        optimizer=optimizer,
        batches=[(torch.randn(4, 3), torch.randn(4))],
        num_epochs=1,
        progress=False,
    )
    args.update(overrides)
    return au.train(**args)


def _rolling_cache():
    cache = au.RollingKVCache(2)
    cache.append(torch.randn(2, 1, 3), torch.randn(2, 1, 3))
    return cache


def _seq2seq():
    encoder = au.Seq2SeqEncoder(10, 4, 8, 1)
    return au.EncoderDecoder(encoder, au.Seq2SeqAttentionDecoder(10, 4, 8, 1))


CASES = [
    # --- checks
    (
        "check_shape",
        lambda: au.check_shape([1, 2], (2,)),
        TypeError,
        "tensor must be a torch.Tensor",
    ),
    (
        "check_shape",
        lambda: au.check_shape(torch.zeros(2), "2"),
        TypeError,
        "shape must be a sequence of ints",
    ),
    (
        "check_shape",
        lambda: au.check_shape(torch.zeros(2), (3,)),
        ValueError,
        r"expected shape \(3,\)",
    ),
    # --- data
    (
        "channel_shapes_data",
        lambda: au.channel_shapes_data(n_train=2.5),
        TypeError,
        "n_train must be",
    ),
    ("channel_shapes_data", lambda: au.channel_shapes_data(n_test=0), ValueError, "n_test must be"),
    (
        "channel_shapes_data",
        lambda: au.channel_shapes_data(num_classes=9),
        ValueError,
        "num_classes must be <= channels",
    ),
    (
        "channel_shapes_data",
        lambda: au.channel_shapes_data(size=3),
        ValueError,
        "size must be an int >= 4",
    ),
    (
        "channel_shapes_data",
        lambda: au.channel_shapes_data(noise_std="1"),
        TypeError,
        "noise_std must be",
    ),
    (
        "channel_shapes_data",
        lambda: au.channel_shapes_data(seed=1.0),
        TypeError,
        "seed must be an int",
    ),
    (
        "kernel_regression_data",
        lambda: au.kernel_regression_data(n_train=2.5),
        TypeError,
        "n_train must be",
    ),
    (
        "kernel_regression_data",
        lambda: au.kernel_regression_data(noise_std=-1),
        ValueError,
        "noise_std must be",
    ),
    (
        "kernel_regression_data",
        lambda: au.kernel_regression_data(seed="0"),
        TypeError,
        "seed must be an int",
    ),
    ("regression_truth", lambda: au.regression_truth([1.0]), TypeError, "x must be a torch.Tensor"),
    ("regression_truth", lambda: au.regression_truth(torch.tensor([-1.0])), ValueError, "x >= 0"),
    (
        "retrieval_data",
        lambda: au.retrieval_data(num_keys=2.0),
        TypeError,
        "num_keys must be a positive int",
    ),
    (
        "retrieval_data",
        lambda: au.retrieval_data(num_keys=17, vocab_size=16),
        ValueError,
        "num_keys must be between 2 and vocab_size",
    ),
    ("retrieval_data", lambda: au.retrieval_data(seed=None), TypeError, "seed must be an int"),
    (
        "coreference_data",
        lambda: au.coreference_data(heldout_per_noun=6),
        ValueError,
        "heldout_per_noun must be",
    ),
    ("coreference_data", lambda: au.coreference_data(seed=1.0), TypeError, "seed must be an int"),
    (
        "make_sentence",
        lambda: au.make_sentence("street", "cross", "river", "wide"),
        ValueError,
        "agent must be one of",
    ),
    (
        "make_sentence",
        lambda: au.make_sentence("dog", 3, "river", "wide"),
        TypeError,
        "verb must be a str",
    ),
    # --- plotting
    (
        "show_heatmaps",
        lambda: au.show_heatmaps(torch.rand(4, 5), "k", "q"),
        ValueError,
        "matrices must have shape",
    ),
    ("show_heatmaps", lambda: au.show_heatmaps("weights", "k", "q"), TypeError, "matrices must be"),
    (
        "show_heatmaps",
        lambda: au.show_heatmaps(torch.rand(1, 1, 2, 2), 1, "q"),
        TypeError,
        "xlabel must be a str",
    ),
    (
        "show_heatmaps",
        lambda: au.show_heatmaps(torch.rand(1, 2, 2, 2), "k", "q", titles=["a"]),
        ValueError,
        "titles must have",
    ),
    (
        "plot_lines",
        lambda: au.plot_lines([1, 2], [[1, 2]], "x", "y"),
        TypeError,
        "ys must be a mapping",
    ),
    (
        "plot_lines",
        lambda: au.plot_lines([1, 2], {"a": [1]}, "x", "y"),
        ValueError,
        "curve 'a' has shape",
    ),
    (
        "plot_lines",
        lambda: au.plot_lines([1, 2], {"a": [1, 2]}, "x", None),
        TypeError,
        "ylabel must be a str",
    ),
    (
        "plot_regression",
        lambda: au.plot_regression(torch.arange(3.0), {"a": torch.ones(3)}, torch.zeros(2)),
        ValueError,
        "x_train and y_train",
    ),
    # --- training
    ("train", lambda: _train(num_epochs=0), ValueError, "num_epochs must be an int >= 1"),
    ("train", lambda: _train(num_epochs=1.0), TypeError, "num_epochs must be an int"),
    ("train", lambda: _train(net="net"), TypeError, "net must be a torch.nn.Module"),
    ("train", lambda: _train(loss_fn=None), TypeError, "loss_fn must be callable"),
    (
        "train",
        lambda: _train(optimizer="sgd"),
        TypeError,
        "optimizer must be a torch.optim.Optimizer",
    ),
    ("train", lambda: _train(metrics=3), TypeError, "metrics must be None or callable"),
    ("train", lambda: _train(progress="no"), TypeError, "progress must be True or False"),
    ("train", lambda: _train(batches=[]), ValueError, "batches is empty"),
    (
        "train",
        lambda: _train(batches=[torch.zeros(3)]),
        TypeError,
        r"each batch must be an \(inputs, targets\) pair",
    ),
    # --- kernel regression
    (
        "nadaraya_watson",
        lambda: au.nadaraya_watson(Q[0, 0], K[0, 0], V[0, 0, :1].expand(4), "x"),
        TypeError,
        "bandwidth must be",
    ),
    (
        "nadaraya_watson",
        lambda: au.nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(3), 0.0),
        ValueError,
        "bandwidth must be",
    ),
    (
        "nadaraya_watson",
        lambda: au.nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(3), kernel=1),
        TypeError,
        "kernel must be a str",
    ),
    (
        "nadaraya_watson",
        lambda: au.nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(3), kernel="tri"),
        ValueError,
        "kernel must be one of",
    ),
    (
        "nadaraya_watson",
        lambda: au.nadaraya_watson(
            torch.zeros(2), torch.zeros(3), torch.zeros(3, dtype=torch.float64)
        ),
        TypeError,
        "share a dtype",
    ),
    (
        "nadaraya_watson",
        lambda: au.nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(2)),
        ValueError,
        "values must have the same shape as keys",
    ),
    ("gaussian_kernel", lambda: au.gaussian_kernel(1.0), TypeError, "u must be a torch.Tensor"),
    (
        "boxcar_kernel",
        lambda: au.boxcar_kernel(torch.ones(2, dtype=torch.long)),
        TypeError,
        "u must be a floating-point tensor",
    ),
    (
        "epanechnikov_kernel",
        lambda: au.epanechnikov_kernel([0.5]),
        TypeError,
        "u must be a torch.Tensor",
    ),
    (
        "leave_one_out",
        lambda: au.leave_one_out(torch.zeros(1), torch.zeros(1)),
        ValueError,
        "n >= 2",
    ),
    (
        "leave_one_out",
        lambda: au.leave_one_out([0.0, 1.0], torch.zeros(2)),
        TypeError,
        "x must be a torch.Tensor",
    ),
    (
        "NWKernelRegression",
        lambda: au.NWKernelRegression(w="1"),
        TypeError,
        "w must be a real number",
    ),
    (
        "NWKernelRegression",
        lambda: au.NWKernelRegression(w=float("nan")),
        ValueError,
        "w must be a finite number",
    ),
    (
        "NWKernelRegression",
        lambda: au.NWKernelRegression()(torch.zeros(2), torch.zeros(1, 1, 3), torch.zeros(1, 1, 3)),
        ValueError,
        r"keys must have shape \(num_keys,\)",
    ),
    (
        "NWKernelRegression",
        lambda: au.NWKernelRegression()(
            torch.zeros(2).double(), torch.zeros(3).double(), torch.zeros(3).double()
        ),
        TypeError,
        "queries has dtype torch.float64",
    ),
    # --- scoring
    (
        "masked_softmax",
        lambda: au.masked_softmax(torch.ones(2, 3, 4, dtype=torch.long), None),
        TypeError,
        "X must be a floating-point tensor",
    ),
    (
        "masked_softmax",
        lambda: au.masked_softmax(torch.randn(4), None),
        ValueError,
        "X must have shape",
    ),
    (
        "masked_softmax",
        lambda: au.masked_softmax(torch.randn(2, 3, 4), torch.tensor([1.0, 2.0])),
        TypeError,
        "valid_lens must have an integer dtype",
    ),
    (
        "masked_softmax",
        lambda: au.masked_softmax(torch.randn(2, 3, 4), torch.tensor([5, 1])),
        ValueError,
        r"valid_lens must lie in \[0, num_keys\]",
    ),
    (
        "attention_pool",
        lambda: au.attention_pool(torch.randn(2, 3, 4).long(), torch.randn(2, 4, 5)),
        TypeError,
        "scores must be a floating-point tensor",
    ),
    (
        "attention_pool",
        lambda: au.attention_pool(torch.randn(2, 3, 4), torch.randn(2, 5, 5)),
        ValueError,
        "values must have num_keys = 4 rows",
    ),
    (
        "attention_pool",
        lambda: au.attention_pool(torch.randn(2, 3, 4), torch.randn(2, 4, 5), torch.ones(2, 3, 4)),
        TypeError,
        "mask must be a bool tensor",
    ),
    (
        "attention_pool",
        lambda: au.attention_pool(
            torch.randn(2, 3, 4), torch.randn(2, 4, 5), torch.ones(3, 3, 4, dtype=torch.bool)
        ),
        ValueError,
        "does not broadcast to scores",
    ),
    (
        "valid_lens_to_mask",
        lambda: au.valid_lens_to_mask(torch.tensor([1, 2]), 2.0, 3),
        TypeError,
        "num_queries must be",
    ),
    (
        "valid_lens_to_mask",
        lambda: au.valid_lens_to_mask(torch.tensor([1, 4]), 2, 3),
        ValueError,
        "valid_lens must lie",
    ),
    ("attention", lambda: au.attention(Q, K, V.double()), TypeError, "share a dtype"),
    ("attention", lambda: au.attention(Q, K[..., :0], V), ValueError, "same d"),
    ("attention", lambda: au.attention(Q[..., :0], K[..., :0], V), ValueError, "d >= 1"),
    ("attention", lambda: au.attention(Q, K[:, :0], V[:, :0]), ValueError, "num_keys >= 1"),
    ("attention", lambda: au.attention(Q, K, V, dropout_p=1.0), ValueError, "dropout_p must be"),
    ("attention", lambda: au.attention(Q, K, V, dropout_p="0"), TypeError, "dropout_p must be"),
    ("attention", lambda: au.attention(Q, K, V, scale=0.0), ValueError, "scale must be"),
    (
        "attention",
        lambda: au.attention(Q, K, V, need_weights=1),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "attention",
        lambda: au.attention(Q, K, V, causal="yes"),
        TypeError,
        "causal must be True or False",
    ),
    (
        "attention",
        lambda: au.attention(Q, K, V, attn_mask=torch.ones(3, 4, dtype=torch.long)),
        TypeError,
        "attn_mask must be a bool tensor",
    ),
    (
        "attention",
        lambda: au.attention(Q, K, V, attn_mask=torch.ones(3, 5, dtype=torch.bool)),
        ValueError,
        "attn_mask must broadcast",
    ),
    (
        "attention",
        lambda: au.attention(Q, K, V, torch.tensor([1, 2, 3])),
        ValueError,
        r"valid_lens must have shape \(batch_size,\)",
    ),
    (
        "AdditiveAttention",
        lambda: au.AdditiveAttention(0, 4, 8, 0.1),
        ValueError,
        "key_size must be a positive int",
    ),
    (
        "AdditiveAttention",
        lambda: au.AdditiveAttention(4, 4.0, 8, 0.1),
        TypeError,
        "query_size must be a positive int",
    ),
    (
        "AdditiveAttention",
        lambda: au.AdditiveAttention(4, 4, -8, 0.1),
        ValueError,
        "num_hiddens must be a positive int",
    ),
    (
        "AdditiveAttention",
        lambda: au.AdditiveAttention(4, 4, 8, "0.1"),
        TypeError,
        "dropout must be a probability",
    ),
    (
        "AdditiveAttention",
        lambda: au.AdditiveAttention(4, 4, 8, 0.0)(*_qkv(dtype=torch.float64)),
        TypeError,
        "queries has dtype torch.float64 but the layer's parameters are torch.float32",
    ),
    (
        "AdditiveAttention",
        lambda: au.AdditiveAttention(5, 4, 8, 0.0)(Q, K, V),
        ValueError,
        "key_size=5",
    ),
    (
        "BilinearAttention",
        lambda: au.BilinearAttention(4, 4, 1.5),
        ValueError,
        r"dropout must be a probability in \[0, 1\)",
    ),
    (
        "BilinearAttention",
        lambda: au.BilinearAttention(4, 4, 0.0)(Q, K, V, LONG[:, :1].squeeze(1) * 9),
        ValueError,
        "valid_lens must lie",
    ),
    (
        "BilinearAttention",
        lambda: au.BilinearAttention(4, 4, 0.0)(Q, K, V, causal=1),
        TypeError,
        "causal must be True or False",
    ),
    (
        "DotProductAttention",
        lambda: au.DotProductAttention(-0.1),
        ValueError,
        "dropout must be a probability",
    ),
    (
        "DotProductAttention",
        lambda: au.DotProductAttention(0.1, need_weights="no"),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "DotProductAttention",
        lambda: au.DotProductAttention(0.0)(Q, torch.randn(2, 4, 5), V),
        ValueError,
        "same d",
    ),
    (
        "DotProductAttention",
        lambda: au.DotProductAttention(0.0)(Q[0], K, V),
        ValueError,
        "queries must have shape",
    ),
    (
        "DotProductAttention",
        lambda: au.DotProductAttention(0.0, need_weights=False)(Q, K, V, LONG[:, :2]),
        ValueError,
        r"valid_lens must have shape",
    ),
    # --- multihead
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(8, 8, 8, 10, 4, 0.0),
        ValueError,
        "num_hiddens = 10 must be divisible by num_heads = 4",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(8, 8, 8, 8, 0, 0.0),
        ValueError,
        "num_heads must be a positive int",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(8, 8, 8, 8.0, 2, 0.0),
        TypeError,
        "num_hiddens must be a positive int",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(8, 8, 8, 8, 2, 1.5),
        ValueError,
        "dropout must be a probability",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(8, 8, 8, 8, 2, 0.0, bias=1),
        TypeError,
        "bias must be True or False",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(4, 4, 2, 8, 2, 0.0)(Q, K, V, causal=None),
        TypeError,
        "causal must be True or False",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(4, 4, 2, 8, 2, 0.0)(Q, K, V[..., :1]),
        ValueError,
        "value_size=2",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(4, 4, 2, 8, 2, 0.0)(Q[None], K[None], V[None]),
        ValueError,
        "must be 3-D",
    ),
    (
        "MultiHeadAttention",
        lambda: setattr(au.MultiHeadAttention(4, 4, 2, 8, 2, 0.0), "need_weights", "no"),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "split_heads",
        lambda: au.split_heads(torch.randn(2, 3, 10), 4),
        ValueError,
        "num_hiddens = 10 is not divisible by num_heads = 4",
    ),
    (
        "split_heads",
        lambda: au.split_heads(torch.randn(2, 3, 8), 2.0),
        TypeError,
        "num_heads must be a positive int",
    ),
    ("split_heads", lambda: au.split_heads([[1.0]], 1), TypeError, "X must be a torch.Tensor"),
    (
        "merge_heads",
        lambda: au.merge_heads(torch.randn(2, 3, 4)),
        ValueError,
        r"X must have shape \(batch_size, num_heads",
    ),
    (
        "as_torch_multihead",
        lambda: au.as_torch_multihead(nn.Linear(2, 2)),
        TypeError,
        "mha must be a MultiHeadAttention",
    ),
    (
        "as_torch_multihead",
        lambda: au.as_torch_multihead(au.MultiHeadAttention(4, 4, 2, 8, 2, 0.0)),
        ValueError,
        "query_size == num_hiddens",
    ),
    # --- transformer
    (
        "PositionalEncoding",
        lambda: au.PositionalEncoding(5, 0.0),
        ValueError,
        "num_hiddens must be even",
    ),
    (
        "PositionalEncoding",
        lambda: au.PositionalEncoding(8, 0.0, max_len=10.0),
        TypeError,
        "max_len must be a positive int",
    ),
    (
        "PositionalEncoding",
        lambda: au.PositionalEncoding(8, 0.0, max_len=2)(X8),
        ValueError,
        "max_len = 2",
    ),
    ("PositionalEncoding", lambda: au.PositionalEncoding(6, 0.0)(X8), ValueError, "num_hiddens=6"),
    (
        "PositionWiseFFN",
        lambda: au.PositionWiseFFN(8, 16, 8)(torch.randn(2, 3, 6)),
        ValueError,
        "ffn_num_input=8",
    ),
    (
        "PositionWiseFFN",
        lambda: au.PositionWiseFFN(8, 16.0, 8),
        TypeError,
        "ffn_num_hiddens must be a positive int",
    ),
    (
        "PositionWiseFFN",
        lambda: au.PositionWiseFFN(8, 16, 8)(X8.double()),
        TypeError,
        "X has dtype torch.float64",
    ),
    ("AddNorm", lambda: au.AddNorm("8", 0.0), TypeError, "norm_shape must be"),
    (
        "AddNorm",
        lambda: au.AddNorm(8, 0.0)(X8, X8[:, :2]),
        ValueError,
        "X and Y must have the same shape",
    ),
    ("AddNorm", lambda: au.AddNorm(6, 0.0)(X8, X8), ValueError, "norm_shape"),
    ("AddNorm", lambda: au.AddNorm(8, 0.0)(X8, "Y"), TypeError, "Y must be a torch.Tensor"),
    (
        "TransformerEncoderBlock",
        lambda: au.TransformerEncoderBlock(8, 16, 3, 0.0),
        ValueError,
        "must be divisible by num_heads",
    ),
    (
        "TransformerEncoderBlock",
        lambda: au.TransformerEncoderBlock(8, 16, 2, 0.0)(torch.zeros(2, 3, 4)),
        ValueError,
        "num_hiddens=8",
    ),
    (
        "TransformerEncoderBlock",
        lambda: au.TransformerEncoderBlock(8, 16, 2, 0.0)(X8, torch.tensor([4, 1])),
        ValueError,
        "valid_lens must lie",
    ),
    (
        "TransformerEncoder",
        lambda: au.TransformerEncoder(5, 8, 16, 2, 1, 0.0)(torch.zeros(2, 3)),
        TypeError,
        "X must be an integer tensor of token ids",
    ),
    (
        "TransformerEncoder",
        lambda: au.TransformerEncoder(5, 8, 16, 2, 1, 0.0)(torch.tensor([[1, 5]])),
        ValueError,
        r"X's token ids must lie in \[0, vocab_size\)",
    ),
    (
        "TransformerEncoder",
        lambda: au.TransformerEncoder(5, 8, 16, 2, 0, 0.0),
        ValueError,
        "num_blks must be a positive int",
    ),
    (
        "TransformerEncoder",
        lambda: au.TransformerEncoder(5, 8, 16, 2, 1, 0.0, need_weights=None),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "TransformerEncoder",
        lambda: au.TransformerEncoder(5, 8, 16, 2, 1, 0.0)(LONG, torch.tensor([1, 4])),
        ValueError,
        "valid_lens must lie",
    ),
    # --- vision
    ("SEBlock", lambda: au.SEBlock(8.0), TypeError, "channels must be a positive int"),
    ("SEBlock", lambda: au.SEBlock(8, reduction=4.0), TypeError, "reduction must be an int"),
    ("SEBlock", lambda: au.SEBlock(8, reduction=16), ValueError, "must be >= reduction"),
    ("SEBlock", lambda: au.SEBlock(8, 4)(IMAGE.double()), TypeError, "x has dtype torch.float64"),
    (
        "SEBlock",
        lambda: au.SEBlock(8, 4)(torch.randn(8, 5, 5)),
        ValueError,
        r"x must have shape \(batch_size, channels, height, width\)",
    ),
    (
        "SEBlock",
        lambda: au.SEBlock(8, 4)(torch.ones(1, 8, 2, 2, dtype=torch.long)),
        TypeError,
        "x must be a floating-point tensor",
    ),
    (
        "ChannelAttention",
        lambda: au.ChannelAttention(4, reduction=16),
        ValueError,
        "must be >= reduction",
    ),
    (
        "ChannelAttention",
        lambda: au.ChannelAttention(8, 4)(torch.randn(2, 6, 5, 5)),
        ValueError,
        r"x must have shape \(batch_size, 8, height, width\)",
    ),
    (
        "SpatialAttention",
        lambda: au.SpatialAttention(8, kernel_size=4),
        ValueError,
        "kernel_size must be odd",
    ),
    (
        "SpatialAttention",
        lambda: au.SpatialAttention(8, kernel_size=7.0),
        TypeError,
        "kernel_size must be an int",
    ),
    ("CBAM", lambda: au.CBAM(32, kernel_size=6), ValueError, "kernel_size must be odd"),
    ("CBAM", lambda: au.CBAM(8, 4)(IMAGE.double()), TypeError, "x has dtype torch.float64"),
    ("ECA", lambda: au.ECA(64, gamma="2"), TypeError, "gamma must be a positive number"),
    ("ECA", lambda: au.ECA(64, gamma=0), ValueError, "gamma must be a positive finite number"),
    ("ECA", lambda: au.ECA(32, kernel_size=2), ValueError, "kernel_size must be odd"),
    (
        "eca_kernel_size",
        lambda: au.eca_kernel_size(64, b="1"),
        TypeError,
        "b must be a real number",
    ),
    (
        "eca_kernel_size",
        lambda: au.eca_kernel_size(0),
        ValueError,
        "channels must be a positive int",
    ),
    ("SimAM", lambda: au.SimAM(e_lambda="x"), TypeError, "e_lambda must be a positive number"),
    (
        "SimAM",
        lambda: au.SimAM(e_lambda=0),
        ValueError,
        "e_lambda must be a positive finite number",
    ),
    ("SimAM", lambda: au.SimAM()(torch.randn(1, 2, 1, 1)), ValueError, r"height \* width >= 2"),
    # --- resnet
    (
        "register_attention",
        lambda: au.register_attention(3, nn.Identity),
        TypeError,
        "name must be a str",
    ),
    (
        "register_attention",
        lambda: au.register_attention("se", au.SEBlock),
        ValueError,
        "already registered as 'se'",
    ),
    (
        "register_attention",
        lambda: au.register_attention("x", nn.Identity, place="middle"),
        ValueError,
        "place must be one of",
    ),
    ("make_attention", lambda: au.make_attention("bam", 8), ValueError, "unknown attention 'bam'"),
    (
        "make_attention",
        lambda: au.make_attention("se", 8.0),
        TypeError,
        "channels must be a positive int",
    ),
    (
        "Bottleneck",
        lambda: au.Bottleneck(64, 16, attention=1),
        TypeError,
        "attention must be None or a str",
    ),
    (
        "Bottleneck",
        lambda: au.Bottleneck(64, 16, stride=0),
        ValueError,
        "stride must be a positive int",
    ),
    (
        "Bottleneck",
        lambda: au.Bottleneck(64, 16, stride_in_3x3=0),
        TypeError,
        "stride_in_3x3 must be True or False",
    ),
    ("ResNet", lambda: au.ResNet((3, 4, 6)), TypeError, "layers must be a sequence of 4 ints"),
    ("ResNet", lambda: au.ResNet((3, 4, 0, 3)), ValueError, r"layers\[2\] must be a positive int"),
    (
        "ResNet",
        lambda: au.ResNet((1, 1, 1, 1), num_classes=3)(torch.randn(1, 1, 32, 32)),
        ValueError,
        r"x must have shape \(batch_size, 3, height, width\)",
    ),
    ("resnet50", lambda: au.resnet50("bam"), ValueError, "unknown attention 'bam'"),
    (
        "resnet50",
        lambda: au.resnet50(num_classes=0),
        ValueError,
        "num_classes must be a positive int",
    ),
    # --- multihead and transformer additions (grouped-query heads, pre-norm)
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(8, 8, 8, 8, 4, 0.0, num_kv_heads=3),
        ValueError,
        "num_heads = 4 must be divisible by num_kv_heads = 3",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(8, 8, 8, 8, 4, 0.0, num_kv_heads=2.0),
        TypeError,
        "num_kv_heads must be a positive int",
    ),
    (
        "TransformerEncoder",
        lambda: au.TransformerEncoder(5, 8, 16, 2, 1, 0.0, norm_first="pre"),
        TypeError,
        "norm_first must be True or False",
    ),
    # --- data: translation
    ("Vocab", lambda: au.Vocab(["cat", 3]), TypeError, "tokens must be strings"),
    ("Vocab", lambda: au.Vocab(["cat", "cat"]), ValueError, "tokens must be distinct"),
    ("translate", lambda: au.translate("the red cat"), TypeError, "words must be a list of words"),
    ("translate", lambda: au.translate(["red"]), ValueError, "words must end with a noun"),
    (
        "translation_data",
        lambda: au.translation_data(num_train=10.0),
        TypeError,
        "num_train must be an int",
    ),
    (
        "translation_data",
        lambda: au.translation_data(num_test=0),
        ValueError,
        "num_test must be a positive int",
    ),
    (
        "translation_data",
        lambda: au.translation_data(max_len=3, min_len=4),
        ValueError,
        "max_len must be >= min_len",
    ),
    # --- data: two marks
    (
        "two_marks_data",
        lambda: au.two_marks_data(4.0),
        TypeError,
        "num_examples must be a positive int",
    ),
    ("two_marks_data", lambda: au.two_marks_data(4, size=5), ValueError, "size must be at least 6"),
    (
        "two_marks_data",
        lambda: au.two_marks_data(4, distances=(2,)),
        ValueError,
        r"distances must lie in \[3, size - 3\]",
    ),
    ("two_marks_data", lambda: au.two_marks_data(4, noise="0.1"), TypeError, "noise must be"),
    ("two_marks_data", lambda: au.two_marks_data(4, noise=-1.0), ValueError, "noise must be"),
    ("two_marks_data", lambda: au.two_marks_data(4, seed=1.5), TypeError, "seed must be an int"),
    # --- seq2seq
    (
        "Seq2SeqEncoder",
        lambda: au.Seq2SeqEncoder(10, 4.0, 8, 1),
        TypeError,
        "embed_size must be a positive int",
    ),
    (
        "Seq2SeqEncoder",
        lambda: au.Seq2SeqEncoder(10, 4, 8, 0),
        ValueError,
        "num_layers must be a positive int",
    ),
    (
        "Seq2SeqEncoder",
        lambda: au.Seq2SeqEncoder(10, 4, 8, 1)(torch.zeros(2, 3)),
        TypeError,
        "X must be an integer tensor of token ids",
    ),
    (
        "Seq2SeqEncoder",
        lambda: au.Seq2SeqEncoder(10, 4, 8, 1)(LONG, torch.tensor([1, 4])),
        ValueError,
        r"valid_lens must lie in \[0, num_steps\] = \[0, 3\]",
    ),
    (
        "Seq2SeqDecoder",
        lambda: au.Seq2SeqDecoder(10, 4, 8, 1, dropout=1.0),
        ValueError,
        "dropout must be a probability",
    ),
    (
        "Seq2SeqDecoder",
        lambda: au.Seq2SeqDecoder("10", 4, 8, 1),
        TypeError,
        "vocab_size must be a positive int",
    ),
    (
        "Seq2SeqAttentionDecoder",
        lambda: au.Seq2SeqAttentionDecoder(10, 4, -8, 1),
        ValueError,
        "num_hiddens must be a positive int",
    ),
    (
        "Seq2SeqAttentionDecoder",
        lambda: au.Seq2SeqAttentionDecoder(10, 4, 8, 1, dropout="0"),
        TypeError,
        "dropout must be a probability",
    ),
    (
        "Seq2SeqAttentionDecoder",
        lambda: au.Seq2SeqAttentionDecoder(10, 4, 8, 1)(torch.ones(2, 3, 1).long(), [None]),
        ValueError,
        r"X must have shape \(batch_size, num_steps\)",
    ),
    (
        "EncoderDecoder",
        lambda: au.EncoderDecoder("encoder", au.Seq2SeqDecoder(10, 4, 8, 1)),
        TypeError,
        "encoder must be a torch.nn.Module",
    ),
    (
        "MaskedSoftmaxCELoss",
        lambda: au.MaskedSoftmaxCELoss(pad=0.0),
        TypeError,
        "pad must be an int",
    ),
    (
        "MaskedSoftmaxCELoss",
        lambda: au.MaskedSoftmaxCELoss(reduction="sum"),
        ValueError,
        "reduction must be 'mean' or 'none'",
    ),
    (
        "MaskedSoftmaxCELoss",
        lambda: au.MaskedSoftmaxCELoss()(LONG, LONG),
        TypeError,
        "pred must be a floating-point tensor",
    ),
    (
        "MaskedSoftmaxCELoss",
        lambda: au.MaskedSoftmaxCELoss()(torch.randn(2, 4, 5), LONG),
        ValueError,
        r"pred must have shape \(batch_size, num_steps, vocab_size\)",
    ),
    # --- decoding
    (
        "greedy_decode",
        lambda: au.greedy_decode(nn.Linear(2, 2), LONG, torch.tensor([3, 3]), 5),
        TypeError,
        "net must implement the decoder contract",
    ),
    (
        "greedy_decode",
        lambda: au.greedy_decode(_seq2seq(), LONG, torch.tensor([3, 3]), 0),
        ValueError,
        "num_steps must be a positive int",
    ),
    (
        "greedy_decode",
        lambda: au.greedy_decode(_seq2seq(), LONG, torch.tensor([3]), 5),
        ValueError,
        r"src_valid_lens must have shape \(batch_size,\) = \(2,\)",
    ),
    (
        "beam_search",
        lambda: au.beam_search(_seq2seq(), LONG[0], 3, 5, beam_size=2.0),
        TypeError,
        "beam_size must be a positive int",
    ),
    (
        "beam_search",
        lambda: au.beam_search(_seq2seq(), LONG, 3, 5, beam_size=2),
        ValueError,
        "src must hold one sentence",
    ),
    (
        "beam_search",
        lambda: au.beam_search(_seq2seq(), LONG[0], 3, 5, 2, alpha=float("inf")),
        ValueError,
        "alpha must be a finite number",
    ),
    ("bleu", lambda: au.bleu("a b", "a b", k=0), ValueError, "k must be a positive int"),
    ("bleu", lambda: au.bleu(["a", 1], "a b"), TypeError, "pred_seq must be a string or a list"),
    ("exact_match", lambda: au.exact_match([], []), ValueError, "preds and labels must be"),
    ("exact_match", lambda: au.exact_match([3], ["a"]), TypeError, "preds must be a string"),
    ("exact_match", lambda: au.exact_match(3, [["a"]]), TypeError, "preds must be a list"),
    # --- kv cache
    ("KVCache", lambda: au.KVCache(static=1), TypeError, "static must be True or False"),
    (
        "KVCache",
        lambda: au.KVCache().append([1.0], torch.zeros(1, 1, 1, 2)),
        TypeError,
        "keys must be a torch.Tensor",
    ),
    (
        "KVCache",
        lambda: au.KVCache().append(torch.zeros(1, 1, 2), torch.zeros(1, 1, 2)),
        ValueError,
        r"keys and values must have shape \(batch_size, num_heads",
    ),
    # --- transformer decoder
    (
        "TransformerDecoderBlock",
        lambda: au.TransformerDecoderBlock(8, 16, 3, 0.0),
        ValueError,
        "must be divisible by num_heads",
    ),
    (
        "TransformerDecoderBlock",
        lambda: au.TransformerDecoderBlock(8, 16, 2, 0.0)(X8, X8, cache="cache"),
        TypeError,
        "cache must be None or a DecoderLayerCache",
    ),
    (
        "TransformerDecoderBlock",
        lambda: au.TransformerDecoderBlock(8, 16, 2, 0.0, norm_first=1),
        TypeError,
        "norm_first must be True or False",
    ),
    (
        "TransformerDecoderBlock",
        lambda: au.TransformerDecoderBlock(8, 16, 2, 0.0)(X8, torch.zeros(2, 3, 4)),
        ValueError,
        r"enc_outputs must have shape \(batch_size, num_steps, num_hiddens=8\)",
    ),
    (
        "TransformerDecoder",
        lambda: au.TransformerDecoder(0, 8, 16, 2, 1, 0.0),
        ValueError,
        "vocab_size must be a positive int",
    ),
    (
        "TransformerDecoder",
        lambda: au.TransformerDecoder(5, 8, 16, 2, 1.0, 0.0),
        TypeError,
        "num_blks must be a positive int",
    ),
    (
        "Transformer",
        lambda: au.Transformer(5, 5, 8, 16, 2, 1, 0.0, norm_first="no"),
        TypeError,
        "norm_first must be True or False",
    ),
    (
        "Transformer",
        lambda: au.Transformer(5, 5, 8, 16, 2, 1, 1.0),
        ValueError,
        "dropout must be a probability",
    ),
    (
        "Transformer",
        lambda: au.Transformer(5, 5, 8, 16, 2, 1, 0.0)(
            torch.zeros(2, 3), LONG, torch.tensor([3, 3])
        ),
        TypeError,
        "src must be an integer tensor",
    ),
    (
        "TorchTransformer",
        lambda: au.TorchTransformer(au.TransformerEncoder(5, 8, 16, 2, 1, 0.0)),
        TypeError,
        "model must be a Transformer",
    ),
    ("warmup_lr", lambda: au.warmup_lr(0, 8, 4), ValueError, "step must be a positive int"),
    ("warmup_lr", lambda: au.warmup_lr(1, 8.0, 4), TypeError, "num_hiddens must be a positive int"),
    (
        "warmup_scheduler",
        lambda: au.warmup_scheduler("adam", 8, 4),
        TypeError,
        "optimizer must be a torch.optim.Optimizer",
    ),
    (
        "warmup_scheduler",
        lambda: au.warmup_scheduler(_net_and_optimizer()[1], 8, 0),
        ValueError,
        "warmup_steps must be a positive int",
    ),
    # --- efficient attention
    (
        "online_softmax",
        lambda: au.online_softmax([1.0, 2.0]),
        TypeError,
        "X must be a torch.Tensor",
    ),
    (
        "online_softmax",
        lambda: au.online_softmax(torch.randn(2, 4), block_size=0),
        ValueError,
        "block_size must be a positive int",
    ),
    (
        "flash_attention",
        lambda: au.flash_attention(Q, K, V, block_size=2.0),
        TypeError,
        "block_size must be a positive int",
    ),
    ("flash_attention", lambda: au.flash_attention(Q, K, V, scale=-1.0), ValueError, "scale must"),
    ("flash_attention", lambda: au.flash_attention(Q, K, V.double()), TypeError, "share a dtype"),
    (
        "linear_attention",
        lambda: au.linear_attention(Q, K, V, causal=True),
        ValueError,
        "causal linear attention needs num_queries == num_keys",
    ),
    (
        "linear_attention",
        lambda: au.linear_attention(Q, K, V, chunk_size=0),
        ValueError,
        "chunk_size must be a positive int",
    ),
    (
        "linear_attention",
        lambda: au.linear_attention(Q, K, V, causal="no"),
        TypeError,
        "causal must be True or False",
    ),
    ("elu_feature_map", lambda: au.elu_feature_map([1.0]), TypeError, "X must be a torch.Tensor"),
    (
        "elu_feature_map",
        lambda: au.elu_feature_map(LONG),
        TypeError,
        "X must be a floating-point tensor",
    ),
    # --- vision self-attention
    (
        "NonLocalBlock",
        lambda: au.NonLocalBlock(8, mode="cosine"),
        ValueError,
        "mode must be one of",
    ),
    (
        "NonLocalBlock",
        lambda: au.NonLocalBlock(8, reduction=2.0),
        TypeError,
        "reduction must be an int",
    ),
    (
        "NonLocalBlock",
        lambda: au.NonLocalBlock(8, 2)(torch.randn(2, 6, 5, 5)),
        ValueError,
        "x must have shape",
    ),
    (
        "GlobalContextBlock",
        lambda: au.GlobalContextBlock(8, reduction=16),
        ValueError,
        "must be >= reduction",
    ),
    (
        "GlobalContextBlock",
        lambda: au.GlobalContextBlock(8, 2, need_weights=0),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "DisentangledNonLocalBlock",
        lambda: au.DisentangledNonLocalBlock(8, 2, temperature=0.0),
        ValueError,
        "temperature must be a positive finite number",
    ),
    (
        "DisentangledNonLocalBlock",
        lambda: au.DisentangledNonLocalBlock(8.0),
        TypeError,
        "channels must be a positive int",
    ),
    (
        "CrissCrossAttention",
        lambda: au.CrissCrossAttention(8, 2, recurrence=0),
        ValueError,
        "recurrence must be a positive int",
    ),
    (
        "CrissCrossAttention",
        lambda: au.CrissCrossAttention(8, 2, dense="yes"),
        TypeError,
        "dense must be True or False",
    ),
    (
        "PolarizedSelfAttention",
        lambda: au.PolarizedSelfAttention(0),
        ValueError,
        "channels must be a positive int",
    ),
    (
        "PolarizedSelfAttention",
        lambda: au.PolarizedSelfAttention(8)([[1.0]]),
        TypeError,
        "x must be a torch.Tensor",
    ),
    # --- dtype checks at the forward boundary of chapter 08's modules
    (
        "NonLocalBlock",
        lambda: au.NonLocalBlock(8, 2)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "GlobalContextBlock",
        lambda: au.GlobalContextBlock(8, 2)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "DisentangledNonLocalBlock",
        lambda: au.DisentangledNonLocalBlock(8, 2)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "CrissCrossAttention",
        lambda: au.CrissCrossAttention(8, 2)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "PolarizedSelfAttention",
        lambda: au.PolarizedSelfAttention(8)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "OutlookAttention",
        lambda: au.OutlookAttention(8, 2)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "VisionTransformer",
        lambda: au.VisionTransformer(16, 4, 8, 10, 8, 2, 1, 16)(torch.randn(1, 8, 16, 16).double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "VisionTransformer",
        lambda: au.VisionTransformer(16, 4, 3, 10, 8.0, 2, 1, 16),
        TypeError,
        "num_hiddens must be a positive int",
    ),
    # --- vit
    (
        "OutlookAttention",
        lambda: au.OutlookAttention(8, 3),
        ValueError,
        "num_heads .* must divide channels",
    ),
    (
        "OutlookAttention",
        lambda: au.OutlookAttention(8, 2, kernel_size=2),
        ValueError,
        "kernel_size must be odd",
    ),
    (
        "OutlookAttention",
        lambda: au.OutlookAttention(8, 2, stride=1.0),
        TypeError,
        "stride must be a positive int",
    ),
    (
        "VisionTransformer",
        lambda: au.VisionTransformer(16, 5, 3, 10, 8, 2, 1, 16),
        ValueError,
        "patch_size .* must divide image_size",
    ),
    (
        "VisionTransformer",
        lambda: au.VisionTransformer(16, 4, 3, 10, 8, 2, 1, 16.0),
        TypeError,
        "ffn_num_hiddens must be a positive int",
    ),
    (
        "VisionTransformer",
        lambda: au.VisionTransformer(16, 4, 3, 10, 8, 2, 1, 16)(torch.randn(1, 3, 8, 8)),
        ValueError,
        r"x must be \(batch_size, 3, 16, 16\)",
    ),
    (
        "vit_num_parameters",
        lambda: au.vit_num_parameters(16, 4, 3, 10, 8.0, 1, 16),
        TypeError,
        "num_hiddens must be a positive int",
    ),
    (
        "vit_num_parameters",
        lambda: au.vit_num_parameters(16, 5, 3, 10, 8, 1, 16),
        ValueError,
        "patch_size .* must divide image_size",
    ),
    # --- cnn attention (chapter 09)
    ("SKConv", lambda: au.SKConv(32, num_branches=1), ValueError, "num_branches must be >= 2"),
    ("SKConv", lambda: au.SKConv(32, groups=5), ValueError, r"groups \(5\) must divide channels"),
    ("SKConv", lambda: au.SKConv(32, stride=1.0), TypeError, "stride must be a positive int"),
    (
        "SKConv",
        lambda: au.SKConv(32, reduction=2, groups=4)(X32.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    ("sk_resnet50", lambda: au.sk_resnet50(groups=2.0), TypeError, "groups must be a positive int"),
    ("sk_resnet50", lambda: au.sk_resnet50(num_classes=0), ValueError, "num_classes must be"),
    ("GCT", lambda: au.GCT(8, eps=0.0), ValueError, "eps must be a positive finite number"),
    ("GCT", lambda: au.GCT(8, eps="1e-5"), TypeError, "eps must be a positive number"),
    ("GCT", lambda: au.GCT(8)(torch.randn(2, 6, 5, 5)), ValueError, "x must have shape"),
    ("GSoP", lambda: au.GSoP(8, hidden=0), ValueError, "hidden must be a positive int"),
    ("GSoP", lambda: au.GSoP(8.0), TypeError, "channels must be a positive int"),
    ("GSoP", lambda: au.GSoP(8, 4)(IMAGE.double()), TypeError, "x has dtype torch.float64"),
    ("fca_frequencies", lambda: au.fca_frequencies(3), ValueError, "num_freq must be one of"),
    ("fca_frequencies", lambda: au.fca_frequencies("16"), TypeError, "num_freq must be an int"),
    (
        "fca_frequencies",
        lambda: au.fca_frequencies(16, 6),
        ValueError,
        "dct_size must be an int >= 7",
    ),
    ("fca_frequencies", lambda: au.fca_frequencies(16, 7.0), TypeError, "dct_size must be an int"),
    (
        "dct_filters",
        lambda: au.dct_filters(7.0, [(0, 0)]),
        TypeError,
        "size must be a positive int",
    ),
    ("dct_filters", lambda: au.dct_filters(7, []), ValueError, "frequencies must be a non-empty"),
    (
        "FcaLayer",
        lambda: au.FcaLayer(8, 2, frequencies=[(0, 7)]),
        ValueError,
        r"frequencies must be \(u, v\) pairs in 0..6",
    ),
    (
        "FcaLayer",
        lambda: au.FcaLayer(6, 2, num_freq=4),
        ValueError,
        r"channels \(6\) must be a multiple of the number of frequencies \(4\)",
    ),
    ("FcaLayer", lambda: au.FcaLayer(8, 2, dct_size=7.0), TypeError, "dct_size must be an int"),
    (
        "FcaLayer",
        lambda: au.FcaLayer(32, 2)(torch.randn(1, 32, 7, 7).double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    # --- cnn spatial attention (chapter 09)
    (
        "affine_transform",
        lambda: au.affine_transform(IMAGE, torch.randn(2, 3, 3)),
        ValueError,
        r"theta must have shape \(2, 2, 3\)",
    ),
    (
        "affine_transform",
        lambda: au.affine_transform(IMAGE, [[1.0, 0.0, 0.0]]),
        TypeError,
        "theta must be a torch.Tensor",
    ),
    ("SpatialTransformer", lambda: au.SpatialTransformer(0), ValueError, "channels must be"),
    (
        "SpatialTransformer",
        lambda: au.SpatialTransformer(8, hidden=8.0),
        TypeError,
        "hidden must be a positive int",
    ),
    (
        "SpatialTransformer",
        lambda: au.SpatialTransformer(8)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    ("ReverseAttention", lambda: au.ReverseAttention(8, num_convs=0), ValueError, "num_convs must"),
    (
        "ReverseAttention",
        lambda: au.ReverseAttention(8, 4)(IMAGE, torch.randn(1, 1, 5, 5)),
        ValueError,
        "side must have batch size 2",
    ),
    (
        "DoubleAttention",
        lambda: au.DoubleAttention(4, reduction=8),
        ValueError,
        r"channels \(4\) must be >= reduction \(8\)",
    ),
    (
        "DoubleAttention",
        lambda: au.DoubleAttention(8, reduction=2.0),
        TypeError,
        "reduction must be a positive int",
    ),
    (
        "DoubleAttention",
        lambda: au.DoubleAttention(8)(IMAGE.double()),
        TypeError,
        "x has dtype torch.float64",
    ),
    (
        "ResidualAttentionModule",
        lambda: au.ResidualAttentionModule(8, p=-1),
        ValueError,
        "p must be an int >= 0",
    ),
    ("ResidualAttentionModule", lambda: au.ResidualAttentionModule(8, p=1.0), TypeError, "p must"),
    ("ResidualAttentionModule", lambda: au.ResidualAttentionModule(8, t=0), ValueError, "t must"),
    (
        "AttentionRefinementModule",
        lambda: au.AttentionRefinementModule(8.0),
        TypeError,
        "channels must be a positive int",
    ),
    (
        "AttentionRefinementModule",
        lambda: au.AttentionRefinementModule(8)(torch.randn(2, 6, 5, 5)),
        ValueError,
        "x must have shape",
    ),
    (
        "FeatureFusionModule",
        lambda: au.FeatureFusionModule(8, 8, 0),
        ValueError,
        "out_channels must be a positive int",
    ),
    (
        "FeatureFusionModule",
        lambda: au.FeatureFusionModule(8, 8, 4)(IMAGE, torch.randn(2, 8, 4, 4)),
        ValueError,
        "x_spatial and x_context must have the same batch size",
    ),
    (
        "FeatureFusionModule",
        lambda: au.FeatureFusionModule(8, 8, 4, reduction=1.0),
        TypeError,
        "reduction must be a positive int",
    ),
    # --- data: distorted digits (chapter 09)
    (
        "distorted_digits_data",
        lambda: au.distorted_digits_data(size=4),
        ValueError,
        "size must be >= 8",
    ),
    (
        "distorted_digits_data",
        lambda: au.distorted_digits_data(n_test=10.0),
        TypeError,
        "n_test must be a positive int",
    ),
    (
        "distorted_digits_data",
        lambda: au.distorted_digits_data(max_angle="60"),
        TypeError,
        "max_angle must be a real number",
    ),
    (
        "distorted_digits_data",
        lambda: au.distorted_digits_data(scale_range=(1.2, 0.5)),
        ValueError,
        "scale_range must be",
    ),
    (
        "distorted_digits_data",
        lambda: au.distorted_digits_data(scale_range=("a", "b")),
        TypeError,
        "scale_range must be a real number",
    ),
    (
        "distorted_digits_data",
        lambda: au.distorted_digits_data(seed=1.5),
        TypeError,
        "seed must be an int",
    ),
    # --- vision: batch norm with one value per channel, frequencies outside the block, GSoP on
    # one position, non-integer distances, the caller's argument names, the weights switch and
    # the registry's lookup (chapters 05, 08, 09)
    (
        "SKConv",
        lambda: au.SKConv(32, groups=4)(torch.randn(1, 32, 4, 4)),
        ValueError,
        "SKConv in training mode needs more than one value per channel",
    ),
    (
        "AttentionRefinementModule",
        lambda: au.AttentionRefinementModule(8)(torch.randn(1, 8, 4, 4)),
        ValueError,
        "AttentionRefinementModule in training mode .* use a batch of at least 2 or call .eval",
    ),
    (
        "NonLocalBlock",
        lambda: au.NonLocalBlock(8)(torch.randn(1, 8, 1, 1)),
        ValueError,
        "NonLocalBlock in training mode",
    ),
    (
        "DisentangledNonLocalBlock",
        lambda: au.DisentangledNonLocalBlock(8)(torch.randn(1, 8, 1, 1)),
        ValueError,
        "DisentangledNonLocalBlock in training mode",
    ),
    (
        "ResNet",
        lambda: au.ResNet((1, 1, 1, 1), num_classes=3)(torch.randn(1, 3, 32, 32)),
        ValueError,
        r"ResNet in training mode .* x of shape \(1, 3, 32, 32\)",
    ),
    (
        "resnet50",
        lambda: au.resnet50("se", num_classes=3)(torch.randn(1, 3, 24, 24)),
        ValueError,
        "ResNet in training mode",
    ),
    (
        "Bottleneck",
        lambda: au.Bottleneck(8, 2)(torch.randn(1, 8, 1, 1)),
        ValueError,
        "Bottleneck in training mode",
    ),
    (
        "ResidualAttentionModule",
        lambda: au.ResidualAttentionModule(8)(torch.randn(1, 8, 2, 2)),
        ValueError,
        "ResidualAttentionModule in training mode",
    ),
    (
        "FeatureFusionModule",
        lambda: au.FeatureFusionModule(4, 4, 8)(torch.randn(1, 4, 1, 1), torch.randn(1, 4, 1, 1)),
        ValueError,
        "FeatureFusionModule in training mode",
    ),
    (
        "SpatialAttention",
        lambda: au.SpatialAttention(8)(torch.randn(1, 8, 1, 1)),
        ValueError,
        "SpatialAttention in training mode",
    ),
    (
        "CBAM",
        lambda: au.CBAM(8, 2)(torch.randn(1, 8, 1, 1)),
        ValueError,
        "SpatialAttention in training mode",
    ),
    (
        "GSoP",
        lambda: au.GSoP(8, hidden=4)(torch.randn(2, 8, 1, 1)),
        ValueError,
        "GSoP needs at least 2 positions .* every input would get the same weights",
    ),
    (
        "GSoP",
        lambda: au.GSoP(8, hidden=4, stride=2)(torch.randn(2, 8, 2, 2)),
        ValueError,
        "GSoP needs at least 2 positions after its stride",
    ),
    (
        "dct_filters",
        lambda: au.dct_filters(7, [(0, 7)]),
        ValueError,
        r"frequencies must lie in 0..6 \(a 7 x 7 block\), got \(0, 7\)",
    ),
    (
        "dct_filters",
        lambda: au.dct_filters(7, [(-1, 0)]),
        ValueError,
        "frequencies must lie in 0..6",
    ),
    (
        "dct_filters",
        lambda: au.dct_filters(7, [(0.5, 0)]),
        TypeError,
        "frequencies must be \\(u, v\\) pairs of ints",
    ),
    (
        "two_marks_data",
        lambda: au.two_marks_data(10, 12, distances=[3.5]),
        TypeError,
        "distances must be ints",
    ),
    (
        "ReverseAttention",
        lambda: au.ReverseAttention(8, hidden=4)(IMAGE, torch.randn(2, 2, 5, 5)),
        ValueError,
        r"side must have shape \(batch_size, 1, height, width\)",
    ),
    (
        "ReverseAttention",
        lambda: au.ReverseAttention(8, hidden=4)([[1.0]], torch.randn(2, 1, 5, 5)),
        TypeError,
        "features must be a torch.Tensor",
    ),
    (
        "FeatureFusionModule",
        lambda: au.FeatureFusionModule(4, 4, 8)(torch.randn(2, 4, 3, 3), torch.randn(2, 3, 3, 3)),
        ValueError,
        r"x_context must have shape \(batch_size, 4, height, width\)",
    ),
    (
        "FeatureFusionModule",
        lambda: au.FeatureFusionModule(4, 4, 8)(torch.randn(2, 4, 3, 3).double(), IMAGE),
        TypeError,
        "x_spatial has dtype torch.float64",
    ),
    (
        "SEBlock",
        lambda: au.SEBlock(8, 2, need_weights="False"),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "CBAM",
        lambda: setattr(au.CBAM(8, 2), "need_weights", "False"),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "VisionTransformer",
        lambda: au.VisionTransformer(16, 4, 3, 10, 8, 2, 1, 16, need_weights="False"),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "VisionTransformer",
        lambda: au.VisionTransformer(16, 4, 3, 10, 8, 3, 1, 16),
        ValueError,
        r"num_heads \(3\) must divide num_hiddens \(8\)",
    ),
    (
        "attention_entry",
        lambda: au.attention_entry("bam"),
        ValueError,
        "unknown attention 'bam'",
    ),
    (
        "attention_entry",
        lambda: au.attention_entry(3),
        TypeError,
        "attention must be None or a str",
    ),
    # --- graphs and memory (chapter 11)
    (
        "GraphAttention",
        lambda: au.GraphAttention(0, 4),
        ValueError,
        "in_features must be a positive int",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4, num_heads=1.5),
        TypeError,
        "num_heads must be a positive int",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4, dropout=1.0),
        ValueError,
        "dropout must be a probability",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4, concat="False"),
        TypeError,
        "concat must be True or False",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4)(torch.randn(5, 3), torch.ones(5, 5)),
        TypeError,
        "adjacency must be a bool tensor",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4)(torch.randn(5, 3), [[True] * 5] * 5),
        TypeError,
        "adjacency must be a bool torch.Tensor",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4)(torch.randn(5, 3), torch.ones(5, 4, dtype=torch.bool)),
        ValueError,
        r"adjacency must have shape \(num_nodes, num_nodes\) = \(5, 5\)",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4)(torch.randn(5, 2), torch.ones(5, 5, dtype=torch.bool)),
        ValueError,
        r"X must have shape \(num_nodes, in_features=3\)",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4)(torch.ones(5, 3, dtype=torch.long), torch.eye(5) > 0),
        TypeError,
        "X must be a floating-point tensor",
    ),
    (
        "GraphAttention",
        lambda: au.GraphAttention(3, 4)(torch.randn(5, 3).double(), torch.eye(5) > 0),
        TypeError,
        "X has dtype torch.float64",
    ),
    (
        "GraphAttentionV2",
        lambda: au.GraphAttentionV2(3, 4, negative_slope="0.2"),
        TypeError,
        "negative_slope must be a real number",
    ),
    (
        "GraphAttentionV2",
        lambda: au.GraphAttentionV2(3, 4)(
            torch.randn(2, 5, 3), torch.ones(3, 5, 5, dtype=torch.bool)
        ),
        ValueError,
        r"adjacency must have shape .*\(2, 5, 5\)",
    ),
    (
        "GraphConvolution",
        lambda: au.GraphConvolution(3, 4, add_self_loops=1),
        TypeError,
        "add_self_loops must be True or False",
    ),
    (
        "GraphConvolution",
        lambda: au.GraphConvolution(3, 4)(torch.randn(5, 3), torch.ones(5, 5, dtype=torch.int)),
        TypeError,
        "adjacency must be a bool tensor",
    ),
    (
        "dense_to_edge_index",
        lambda: au.dense_to_edge_index(torch.ones(3, 3)),
        TypeError,
        "adjacency must be a bool torch.Tensor",
    ),
    (
        "dense_to_edge_index",
        lambda: au.dense_to_edge_index(torch.ones(3, 2, dtype=torch.bool)),
        ValueError,
        r"adjacency must have shape \(num_nodes, num_nodes\)",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 0, 5),
        ValueError,
        "num_hops must be a positive int",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5, pad=10),
        ValueError,
        r"pad must be a token id in \[0, vocab_size=10\)",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.full((2, 3, 4), 10), torch.ones(2, 3, dtype=torch.long)
        ),
        ValueError,
        r"stories holds token ids from 10 to 10, outside the vocabulary \[0, vocab_size=10\)",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.ones(2, 3, 4, dtype=torch.long), -torch.ones(2, 3, dtype=torch.long)
        ),
        ValueError,
        "questions holds token ids from -1 to -1, outside the vocabulary",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.ones(2, 3, 4), torch.ones(2, 3, dtype=torch.long)
        ),
        TypeError,
        "stories must be an integer torch.Tensor of token ids",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.stack([torch.ones(3, 4, dtype=torch.long), torch.zeros(3, 4, dtype=torch.long)]),
            torch.ones(2, 3, dtype=torch.long),
        ),
        ValueError,
        "stories must hold at least one sentence each.*empty: story 1",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.ones(2, 3, 4, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long)
        ),
        ValueError,
        "questions must hold at least one word each",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.ones(2, 6, 4, dtype=torch.long), torch.ones(2, 3, dtype=torch.long)
        ),
        ValueError,
        "stories have 6 slots but memory_size is 5",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.ones(2, 3, 4, dtype=torch.long), torch.ones(3, 3, dtype=torch.long)
        ),
        ValueError,
        "stories and questions must have the same batch_size",
    ),
    (
        "MemoryNetwork",
        lambda: au.MemoryNetwork(10, 4, 2, 5)(
            torch.ones(3, 4, dtype=torch.long), torch.ones(3, 3, dtype=torch.long)
        ),
        ValueError,
        r"stories must have shape \(batch_size, num_slots, sentence_len\)",
    ),
    (
        "position_encoding",
        lambda: au.position_encoding(torch.tensor([2.0]), 4, 3),
        TypeError,
        "lengths must be an integer torch.Tensor",
    ),
    (
        "position_encoding",
        lambda: au.position_encoding(torch.tensor([5]), 4, 3),
        ValueError,
        r"lengths must lie in \[0, max_len\]",
    ),
    (
        "marked_neighbour_data",
        lambda: au.marked_neighbour_data(degree=1),
        ValueError,
        "degree must be an int >= 2",
    ),
    (
        "marked_neighbour_data",
        lambda: au.marked_neighbour_data(num_nodes=9, degree=4),
        ValueError,
        "num_nodes must be an int >= 10",
    ),
    (
        "marked_neighbour_data",
        lambda: au.marked_neighbour_data(train_fraction=1.0),
        ValueError,
        r"train_fraction must lie in \(0, 1\)",
    ),
    (
        "marked_neighbour_data",
        lambda: au.marked_neighbour_data(seed=1.5),
        TypeError,
        "seed must be an int",
    ),
    (
        "dictionary_lookup_data",
        lambda: au.dictionary_lookup_data(num_keys=1),
        ValueError,
        "num_keys must be an int >= 2",
    ),
    (
        "dictionary_lookup_data",
        lambda: au.dictionary_lookup_data(num_train=0),
        ValueError,
        "num_train must be a positive int",
    ),
    (
        "babi_data",
        lambda: au.babi_data(task=3),
        ValueError,
        r"task must be one of \['1', '2'\]",
    ),
    (
        "babi_data",
        lambda: au.babi_data(task="2"),
        TypeError,
        "task must be an int, 1 or 2",
    ),
    (
        "babi_data",
        lambda: au.babi_data(task=2, min_sentences=1),
        ValueError,
        "min_sentences must be an int >= 2",
    ),
    (
        "babi_data",
        lambda: au.babi_data(min_sentences=5, max_sentences=4),
        ValueError,
        "max_sentences must be an int >= 5",
    ),
    (
        "babi_data",
        lambda: au.babi_data(num_people=5),
        ValueError,
        "num_people must be between 1 and 4",
    ),
    (
        "babi_data",
        lambda: au.babi_data(task=1, single_fact_fraction=0.5),
        ValueError,
        "single_fact_fraction must lie in \\[0, 1\\), and be 0 for task 1",
    ),
    # --- positions and locality (chapter 12)
    (
        "relative_positions",
        lambda: au.relative_positions(5, 3),
        ValueError,
        r"num_queries \(5\) must be <= num_keys",
    ),
    ("relative_positions", lambda: au.relative_positions(2.0, 3), TypeError, "num_queries"),
    ("ShawRelativePosition", lambda: au.ShawRelativePosition(4, 0), ValueError, "max_distance"),
    (
        "ShawRelativePosition",
        lambda: au.ShawRelativePosition(4, 2)(torch.randn(2, 3, 5), 3),
        ValueError,
        r"queries must have shape \(\.\.\., num_queries, 4\)",
    ),
    (
        "relative_position_bucket",
        lambda: au.relative_position_bucket(torch.zeros(3)),
        TypeError,
        "relative_position must be an integer tensor",
    ),
    (
        "relative_position_bucket",
        lambda: au.relative_position_bucket(torch.zeros(3, dtype=torch.long), num_buckets=3),
        ValueError,
        "num_buckets must be >= 2",
    ),
    (
        "relative_position_bucket",
        lambda: au.relative_position_bucket(torch.zeros(3, dtype=torch.long), max_distance=8),
        ValueError,
        "max_distance must be > 8",
    ),
    ("T5RelativeBias", lambda: au.T5RelativeBias(0), ValueError, "num_heads"),
    ("T5RelativeBias", lambda: au.T5RelativeBias(2, bidirectional=1), TypeError, "bidirectional"),
    (
        "apply_rotary",
        lambda: au.apply_rotary(torch.randn(2, 5, 7)),
        ValueError,
        "head_dim must be even",
    ),
    (
        "apply_rotary",
        lambda: au.apply_rotary(torch.randn(2, 5, 8), torch.arange(4)),
        ValueError,
        "positions of shape",
    ),
    ("apply_rotary", lambda: au.apply_rotary(torch.randn(5, 8), [0, 1]), TypeError, "positions"),
    ("apply_rotary", lambda: au.apply_rotary(torch.randn(5, 8), base=0), ValueError, "base"),
    ("apply_rotary", lambda: au.apply_rotary(torch.ones(5, 8, dtype=torch.long)), TypeError, "x"),
    ("alibi_slopes", lambda: au.alibi_slopes(0), ValueError, "num_heads"),
    ("alibi_slopes", lambda: au.alibi_slopes(2.0), TypeError, "num_heads"),
    ("alibi_bias", lambda: au.alibi_bias(2, 4, 3), ValueError, "num_queries"),
    ("alibi_bias", lambda: au.alibi_bias(2, 3, 3, dtype=torch.long), TypeError, "dtype"),
    ("sliding_window_mask", lambda: au.sliding_window_mask(3, 3, 0), ValueError, "window"),
    ("sliding_window_mask", lambda: au.sliding_window_mask(3, 3, 2, num_sinks=-1), ValueError,
     "num_sinks"),
    ("sliding_window_mask", lambda: au.sliding_window_mask(3, 3, 2, causal="no"), TypeError,
     "causal"),
    (
        "sliding_window_attention",
        lambda: au.sliding_window_attention(Q, K, V, window=0),
        ValueError,
        "window must be a positive int",
    ),
    (
        "sliding_window_attention",
        lambda: au.sliding_window_attention(K, Q, Q, window=2),
        ValueError,
        "queries .* must not outnumber keys",
    ),
    ("RollingKVCache", lambda: au.RollingKVCache(0), ValueError, "window"),
    ("RollingKVCache", lambda: au.RollingKVCache(2, num_sinks=1.0), TypeError, "num_sinks"),
    (
        "RollingKVCache",
        lambda: _rolling_cache().append(torch.randn(2, 1, 3, dtype=torch.float64),
                                        torch.randn(2, 1, 3, dtype=torch.float64)),
        TypeError,
        "keys must have the cache's dtype",
    ),
    (
        "RollingKVCache",
        lambda: _rolling_cache().append(torch.randn(2, 1, 5), torch.randn(2, 1, 3)),
        ValueError,
        "do not fit the cached",
    ),
    ("RollingKVCache", lambda: au.RollingKVCache(2).attn_mask(), ValueError, "the cache is empty"),
    (
        "window_partition",
        lambda: au.window_partition(torch.randn(1, 6, 6, 2), 0),
        ValueError,
        "window_size must be a positive int",
    ),
    (
        "window_partition",
        lambda: au.window_partition(torch.randn(1, 6, 7, 2), 3),
        ValueError,
        r"height and width \(6, 7\) must be divisible by window_size = 3",
    ),
    (
        "window_partition",
        lambda: au.window_partition(torch.randn(6, 6, 2), 3),
        ValueError,
        r"x must have shape \(batch_size, height, width, channels\)",
    ),
    (
        "window_reverse",
        lambda: au.window_reverse(torch.randn(3, 9, 2), 3, 6, 6),
        ValueError,
        "windows must have shape",
    ),
    ("window_reverse", lambda: au.window_reverse(torch.randn(4, 9, 2), 3, 6, 5), ValueError,
     "divisible by window_size"),
    (
        "shifted_window_mask",
        lambda: au.shifted_window_mask(8, 8, 4, 4),
        ValueError,
        "shift_size must be smaller than window_size = 4",
    ),
    ("shifted_window_mask", lambda: au.shifted_window_mask(8, 8, 0, 0), ValueError, "window_size"),
    ("shifted_window_mask", lambda: au.shifted_window_mask(8, 9, 4, 2), ValueError, "divisible"),
    ("relative_position_index", lambda: au.relative_position_index(0), ValueError, "window_size"),
    ("WindowAttention", lambda: au.WindowAttention(6, 2, 4), ValueError, "num_heads"),
    (
        "WindowAttention",
        lambda: au.WindowAttention(4, 2, 2)(torch.randn(2, 4, 4), torch.ones(1, 4, 4)),
        TypeError,
        "mask must be a bool tensor",
    ),
    (
        "WindowAttention",
        lambda: au.WindowAttention(4, 2, 2)(torch.randn(2, 5, 4)),
        ValueError,
        "windows must have shape",
    ),
    ("SwinBlock", lambda: au.SwinBlock(8, 2, window_size=0), ValueError, "window_size"),
    (
        "SwinBlock",
        lambda: au.SwinBlock(8, 2, window_size=4, shift_size=4),
        ValueError,
        "shift_size must be smaller than window_size",
    ),
    ("SwinBlock", lambda: au.SwinBlock(8, 2, 4, shift_size=-1), ValueError, "shift_size"),
    (
        "SwinBlock",
        lambda: au.SwinBlock(8, 2, window_size=4)(torch.randn(1, 8, 6, 8)),
        ValueError,
        "must be divisible by window_size = 4",
    ),
    (
        "SwinBlock",
        lambda: au.SwinBlock(8, 2, window_size=4)(torch.randn(1, 8, 8, 6)),
        ValueError,
        "x must have 8 channels",
    ),
    ("PatchMerging", lambda: au.PatchMerging(0), ValueError, "dim"),
    ("PatchMerging", lambda: au.PatchMerging(4)(torch.randn(1, 5, 4, 4)), ValueError, "divisible"),
    ("swin_num_parameters", lambda: au.swin_num_parameters(0), ValueError, "embed_dim"),
    (
        "swin_num_parameters",
        lambda: au.swin_num_parameters(depths=(2, 2), num_heads=(3,)),
        ValueError,
        "one entry per stage",
    ),
    (
        "PositionalLM",
        lambda: au.PositionalLM(8, 16, 4, 1, "relative", 10),
        ValueError,
        "position must be one of",
    ),
    (
        "PositionalLM",
        lambda: au.PositionalLM(8, 12, 4, 1, "rope", 10),
        ValueError,
        "num_heads .* even for rope",
    ),
    (
        "PositionalLM",
        lambda: au.PositionalLM(8, 16, 4, 1, "none", 10)(torch.zeros(1, 11, dtype=torch.long)),
        ValueError,
        "max_len = 10",
    ),
    (
        "PositionalLM",
        lambda: au.PositionalLM(8, 16, 4, 1, "none", 10)(torch.full((1, 3), 8)),
        ValueError,
        r"tokens must be ids in \[0, 8\)",
    ),
    (
        "PositionalLM",
        lambda: au.PositionalLM(8, 16, 4, 1, "none", 10)(torch.zeros(1, 3)),
        TypeError,
        "tokens must be an integer tensor",
    ),
    (
        "PositionalLM",
        lambda: au.PositionalLM(8, 16, 4, 1, "none", 10)(torch.zeros(1, 3, dtype=torch.long),
                                                          num_sinks=1),
        ValueError,
        "num_sinks needs a window",
    ),
    (
        "copy_back_data",
        lambda: au.copy_back_data(2, 4, 5, 4, torch.Generator()),
        ValueError,
        "offset",
    ),
    ("copy_back_data", lambda: au.copy_back_data(2, 4.0, 5, 1, None), TypeError, "num_steps"),
    (
        "accuracy_by_length",
        lambda: au.accuracy_by_length(nn.Linear(2, 2), lambda n: None, [4]),
        TypeError,
        "net must be a PositionalLM",
    ),
    (
        "accuracy_by_length",
        lambda: au.accuracy_by_length(au.PositionalLM(8, 16, 4, 1, "none", 10), lambda n: 0, []),
        ValueError,
        "lengths must be a non-empty list",
    ),
    (
        "train_lm",
        lambda: au.train_lm(au.PositionalLM(8, 16, 4, 1, "none", 10), None, 4, 1, 0.1),
        TypeError,
        "make_batch must be a callable",
    ),
    (
        "train_lm",
        lambda: au.train_lm(au.PositionalLM(8, 16, 4, 1, "none", 10), lambda n: 0, 4, 1, -0.1),
        ValueError,
        "lr must be a positive",
    ),
    # --- where the model looks (chapter 13): scenes, captioning, explain, attribution
    ("scene_data", lambda: au.scene_data(num_scenes=0), ValueError, "num_scenes must be"),
    ("scene_data", lambda: au.scene_data(cell_size=4), ValueError, "cell_size must be an int >= 5"),
    ("scene_data", lambda: au.scene_data(seed="0"), TypeError, "seed must be an int"),
    ("ShowAttendTell", lambda: au.ShowAttendTell(11, "sharp"), ValueError, "attention must be"),
    ("ShowAttendTell", lambda: au.ShowAttendTell(11.0), TypeError, "vocab_size must be"),
    (
        "ShowAttendTell",
        lambda: au.ShowAttendTell(11, image_size=20),
        ValueError,
        "image_size must be divisible by patch_size",
    ),
    ("ShowAttendTell", lambda: au.ShowAttendTell(11, soft_mix=2), ValueError, "soft_mix must"),
    (
        "ShowAttendTell",
        lambda: au.ShowAttendTell(11)(torch.zeros(2, 3, 16, 16), LONG[:, :2]),
        ValueError,
        r"images must have shape \(batch_size, 3, 24, 24\)",
    ),
    (
        "ShowAttendTell",
        lambda: au.ShowAttendTell(11)(torch.zeros(2, 3, 24, 24), LONG * 11),
        ValueError,
        r"tokens must lie in \[0, 11\)",
    ),
    (
        "ShowAttendTell",
        lambda: au.ShowAttendTell(11)(torch.zeros(2, 3, 24, 24), LONG.float()),
        TypeError,
        "tokens must be a long tensor",
    ),
    (
        "caption_images",
        lambda: au.caption_images(nn.Linear(2, 2), torch.zeros(1, 3, 24, 24), 1, 6),
        TypeError,
        "net must be a ShowAttendTell",
    ),
    (
        "caption_images",
        lambda: au.caption_images(au.ShowAttendTell(11), torch.zeros(1, 3, 24, 24), 11, 6),
        ValueError,
        r"bos must lie in \[0, 11\)",
    ),
    (
        "caption_images",
        lambda: au.caption_images(au.ShowAttendTell(11), torch.zeros(1, 3, 24, 24), 1, 0),
        ValueError,
        "num_steps must be a positive int",
    ),
    ("caption_loss", lambda: au.caption_loss(torch.zeros(2, 3, 4), LONG), TypeError, "output must"),
    (
        "caption_loss",
        lambda: au.caption_loss(au.CaptionOutput(torch.zeros(2, 3, 4), Q), LONG[:, :2]),
        ValueError,
        r"targets must have shape \(2, 3\)",
    ),
    (
        "caption_loss",
        lambda: au.caption_loss(au.CaptionOutput(torch.zeros(2, 3, 4), Q), LONG, penalty=-1.0),
        ValueError,
        "penalty must be >= 0",
    ),
    (
        "doubly_stochastic_penalty",
        lambda: au.doubly_stochastic_penalty(torch.ones(2, 3)),
        ValueError,
        "weights must be",
    ),
    ("doubly_stochastic_penalty", lambda: au.doubly_stochastic_penalty(LONG), TypeError, "weights"),
    (
        "reinforce_surrogate",
        lambda: au.reinforce_surrogate(torch.zeros(3), torch.zeros(4)),
        ValueError,
        "reward must have the shape of log_prob",
    ),
    (
        "reinforce_surrogate",
        lambda: au.reinforce_surrogate(torch.zeros(3), torch.zeros(3), baseline="b"),
        TypeError,
        "baseline must be a real number",
    ),
    (
        "reinforce_surrogate",
        lambda: au.reinforce_surrogate(torch.zeros(3), torch.zeros(3), baseline=torch.zeros(2)),
        ValueError,
        "baseline must broadcast",
    ),
    ("MovingAverageBaseline", lambda: au.MovingAverageBaseline(1.0), ValueError, "decay must"),
    (
        "score_function_variance",
        lambda: au.score_function_variance(
            au.ShowAttendTell(11), torch.zeros(2, 3, 24, 24), LONG, 0.0
        ),
        ValueError,
        "net must use hard attention",
    ),
    (
        "score_function_variance",
        lambda: au.score_function_variance(
            au.ShowAttendTell(11, "hard"), torch.zeros(2, 3, 24, 24), LONG, 0.0, num_samples=1
        ),
        ValueError,
        "num_samples must be an int >= 2",
    ),
    ("attention_rollout", lambda: au.attention_rollout(Q), TypeError, "attentions must be a list"),
    ("attention_rollout", lambda: au.attention_rollout([]), ValueError, "attentions must hold"),
    (
        "attention_rollout",
        lambda: au.attention_rollout([torch.full((1, 2, 3, 4), 0.25)]),
        ValueError,
        r"attentions\[0\] must have shape \(batch_size, num_heads, num_tokens, num_tokens\)",
    ),
    (
        "attention_rollout",
        lambda: au.attention_rollout(
            [torch.full((1, 2, 3, 3), 1 / 3), torch.full((1, 2, 4, 4), 0.25)]
        ),
        ValueError,
        r"attentions\[1\] has shape \(1, 2, 4, 4\), which does not match",
    ),
    (
        "attention_rollout",
        lambda: au.attention_rollout([torch.ones(1, 2, 3, 3)]),
        ValueError,
        r"every row of attentions\[0\] must sum to 1",
    ),
    (
        "attention_rollout",
        lambda: au.attention_rollout([torch.full((1, 1, 2, 2), 0.5)], residual=1.0),
        ValueError,
        "residual must be a probability",
    ),
    (
        "js_divergence",
        lambda: au.js_divergence(torch.full((2, 2), 0.5), torch.full((2, 4), 0.25)),
        ValueError,
        "q must have the shape of p",
    ),
    ("js_divergence", lambda: au.js_divergence(torch.ones(2, 2), torch.ones(2, 2)), ValueError,
     "every row of p must sum to 1"),
    (
        "map_agreement",
        lambda: au.map_agreement(torch.full((2, 3), 1 / 3), torch.tensor([0, 1, 2])),
        ValueError,
        r"true_index must have shape \(2,\)",
    ),
    (
        "map_agreement",
        lambda: au.map_agreement(torch.full((2, 3), 1 / 3), torch.tensor([-1, -1])),
        ValueError,
        "true_index marks no row",
    ),
    (
        "map_agreement",
        lambda: au.map_agreement(torch.full((2, 3), 1 / 3), torch.tensor([0.0, 1.0])),
        TypeError,
        "true_index must be a long tensor",
    ),
    ("rank_correlation", lambda: au.rank_correlation(Q, K), ValueError, "a and b must have"),
    ("rank_correlation", lambda: au.rank_correlation([1, 2], Q), TypeError, "a must be a tensor"),
    ("randomized_copy", lambda: au.randomized_copy("net"), TypeError, "model must be"),
    ("randomized_copy", lambda: au.randomized_copy(nn.Linear(2, 2), 0.5), TypeError, "seed must"),
    (
        "adversarial_attention",
        lambda: au.adversarial_attention(lambda w: w, torch.ones(2, 3)),
        ValueError,
        "every row of weights must sum to 1",
    ),
    (
        "adversarial_attention",
        lambda: au.adversarial_attention(lambda w: w, torch.full((2, 2), 0.5), epsilon=0.0),
        ValueError,
        "epsilon must be positive",
    ),
    (
        "adversarial_attention",
        lambda: au.adversarial_attention("decode", torch.full((2, 2), 0.5)),
        TypeError,
        "decode must be callable",
    ),
    ("random_ranking", lambda: au.random_ranking(0, 3), ValueError, "batch_size must be"),
    ("random_ranking", lambda: au.random_ranking(2, 3.0), TypeError, "num_features must be"),
    (
        "deletion_curve",
        lambda: au.deletion_curve(lambda keep: keep.sum(-1), torch.tensor([[0, 0, 1]]), 2),
        ValueError,
        "each row of ranking must be a permutation",
    ),
    (
        "deletion_curve",
        lambda: au.deletion_curve(lambda keep: keep.sum(-1), torch.tensor([[0, 2, 1]]), 4),
        ValueError,
        "num_deleted must be at most num_features",
    ),
    (
        "deletion_curve",
        lambda: au.deletion_curve(lambda keep: keep, torch.tensor([[0, 2, 1]]), 1),
        ValueError,
        r"predict must return a tensor of shape \(1,\)",
    ),
    (
        "deletion_curve",
        lambda: au.deletion_curve(lambda keep: keep.sum(-1), torch.tensor([[0.0, 2.0, 1.0]]), 1),
        TypeError,
        "ranking must be a long tensor",
    ),
    ("saliency", lambda: au.saliency(nn.Linear(4, 2), LONG, 0), TypeError, "inputs must be"),
    (
        "saliency",
        lambda: au.saliency(nn.Linear(4, 2), torch.zeros(3, 4), torch.tensor([0, 1])),
        ValueError,
        r"target must be a long tensor of shape \(3,\)",
    ),
    ("saliency", lambda: au.saliency("net", torch.zeros(3, 4), 0), TypeError, "forward must be"),
    (
        "integrated_gradients",
        lambda: au.integrated_gradients(nn.Linear(4, 2), torch.zeros(3, 4), 0, n_steps=0),
        ValueError,
        "n_steps must be a positive int",
    ),
    (
        "integrated_gradients",
        lambda: au.integrated_gradients(nn.Linear(4, 2), torch.zeros(3, 4), 0, torch.zeros(3)),
        ValueError,
        "baselines must be None or a tensor of the shape of inputs",
    ),
    (
        "integrated_gradients",
        lambda: au.integrated_gradients(nn.Linear(4, 2), torch.zeros(3, 4), -1),
        ValueError,
        "target must be an int >= 0",
    ),
]

# --- efficient attention and KV cache
_CACHE32 = au.KVCache()
_CACHE32.append(torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4))
_STEP_STATE = au.linear_attention_step(torch.randn(2, 4), torch.randn(2, 4), torch.randn(2, 3))[1]
CASES += [
    (
        "KVCache",
        lambda: _CACHE32.append(torch.zeros(1, 2, 1, 4).double(), torch.zeros(1, 2, 1, 4).double()),
        TypeError,
        r"must have the cache's dtype torch.float32, got torch.float64",
    ),
    (
        "KVCache",
        lambda: au.KVCache().append(torch.zeros(1, 2, 1, 4), torch.zeros(1, 2, 1, 4).double()),
        TypeError,
        "keys and values must share a dtype",
    ),
    (
        "KVCache",
        lambda: _CACHE32.append(torch.zeros(1, 2, 1, 4), torch.zeros(1, 2, 1, 5)),
        ValueError,
        "values must have head_dim_v = 4 like the cached ones",
    ),
    ("KVCache", lambda: au.KVCache(window=0), ValueError, "window must be a positive int"),
    ("KVCache", lambda: au.KVCache(max_steps="8"), TypeError, "max_steps must be a positive int"),
    ("KVCache", lambda: au.KVCache(max_steps=8, window=4), ValueError, "not both"),
    (
        "KVCache",
        lambda: au.KVCache(max_steps=2).append(torch.zeros(1, 1, 3, 2), torch.zeros(1, 1, 3, 2)),
        ValueError,
        "exceed max_steps = 2",
    ),
    (
        "flash_attention",
        lambda: au.flash_attention(Q, K, V, query_block_size=0),
        ValueError,
        "query_block_size must be a positive int",
    ),
    (
        "linear_attention_step",
        lambda: au.linear_attention_step(torch.randn(2, 4), torch.randn(3, 4), torch.randn(2, 3)),
        ValueError,
        "must have the same leading dimensions",
    ),
    (
        "linear_attention_step",
        lambda: au.linear_attention_step(torch.randn(2, 4), torch.randn(2, 4), LONG),
        TypeError,
        "value must be a floating-point tensor",
    ),
    (
        "linear_attention_step",
        lambda: au.linear_attention_step(
            torch.randn(2, 4), torch.randn(2, 4), torch.randn(2, 3), state=[1, 2]
        ),
        TypeError,
        r"state must be None or the \(S, z\) pair",
    ),
    (
        "linear_attention_step",
        lambda: au.linear_attention_step(
            torch.randn(2, 4), torch.randn(2, 4), torch.randn(2, 2), state=_STEP_STATE
        ),
        ValueError,
        "state must hold S of shape",
    ),
]


# --- training, sequence to sequence and decoding: the step budget, clipping and scheduler of
# train(), token ids, states and valid_lens of the RNN encoder-decoder, the decoder contract
def _sgd_and_other_scheduler():
    net, optimizer = _net_and_optimizer()
    other = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    return optimizer, torch.optim.lr_scheduler.StepLR(other, 1)


SEQ2SEQ_API_CASES = [
    ("train", lambda: _train(num_epochs=None), ValueError, "give num_epochs or max_steps"),
    ("train", lambda: _train(max_steps=0), ValueError, "max_steps must be a positive int"),
    ("train", lambda: _train(max_steps=2.0), TypeError, "max_steps must be a positive int"),
    ("train", lambda: _train(grad_clip=0.0), ValueError, "grad_clip must be a positive"),
    ("train", lambda: _train(grad_clip="1"), TypeError, "grad_clip must be a positive number"),
    ("train", lambda: _train(scheduler=3), TypeError, "scheduler must be a torch.optim"),
    (
        "train",
        lambda: _train(
            scheduler=torch.optim.lr_scheduler.ReduceLROnPlateau(_net_and_optimizer()[1])
        ),
        TypeError,
        "scheduler must be .*ReduceLROnPlateau needs a metric",
    ),
    (
        "train",
        lambda: (lambda o, s: _train(optimizer=o, scheduler=s))(*_sgd_and_other_scheduler()),
        ValueError,
        "scheduler must schedule the optimizer",
    ),
    # shift right for teacher forcing
    ("decoder_inputs", lambda: au.decoder_inputs(LONG.float(), 1), TypeError, "Y must be an int"),
    ("decoder_inputs", lambda: au.decoder_inputs(LONG, -1), ValueError, "bos must be an int >= 0"),
    # token ids outside the vocabulary, named as the caller passed them
    (
        "Seq2SeqEncoder",
        lambda: au.Seq2SeqEncoder(10, 4, 8, 1)(LONG * 10),
        ValueError,
        r"X's token ids must lie in \[0, vocab_size\) = \[0, 10\)",
    ),
    (
        "EncoderDecoder",
        lambda: _seq2seq()(LONG, LONG * 10, torch.tensor([3, 3])),
        ValueError,
        "dec_X's token ids must lie in",
    ),
    (
        "Seq2SeqDecoder",
        lambda: au.Seq2SeqDecoder(10, 4, 8, 1)(-LONG, [torch.zeros(2, 8), torch.zeros(1, 2, 8)]),
        ValueError,
        "X's token ids must lie in",
    ),
    (
        "MaskedSoftmaxCELoss",
        lambda: au.MaskedSoftmaxCELoss()(torch.randn(2, 3, 5), LONG * 5),
        ValueError,
        "label's token ids must lie in",
    ),
    (
        "greedy_decode",
        lambda: au.greedy_decode(_seq2seq(), LONG, torch.tensor([3, 3]), 5, bos=10),
        ValueError,
        r"bos must be a token id in \[0, vocab_size\) = \[0, 10\)",
    ),
    (
        "beam_search",
        lambda: au.beam_search(_seq2seq(), LONG[0], 3, 5, 2, eos=12),
        ValueError,
        "eos must be a token id",
    ),
    # states and lengths: the wrong state, another batch or width, lengths outside 0..n
    (
        "Seq2SeqAttentionDecoder",
        lambda: au.Seq2SeqAttentionDecoder(10, 4, 8, 1)(
            LONG, [torch.zeros(3, 3, 8), torch.zeros(1, 3, 8), None]
        ),
        ValueError,
        "X has batch_size 2 but the state's enc_outputs 3",
    ),
    (
        "Seq2SeqAttentionDecoder",
        lambda: au.Seq2SeqAttentionDecoder(10, 4, 8, 1).init_state(
            (torch.zeros(2, 3, 8), torch.zeros(1, 2, 8)), torch.tensor([2, 4])
        ),
        ValueError,
        r"enc_valid_lens must lie in \[0, num_steps\] = \[0, 3\]",
    ),
    (
        "Seq2SeqAttentionDecoder",
        lambda: au.Seq2SeqAttentionDecoder(10, 4, 8, 1).init_state(
            (torch.zeros(2, 3, 8), torch.zeros(1, 2, 8)), torch.tensor([2.0, 1.0])
        ),
        TypeError,
        "enc_valid_lens must have an integer dtype",
    ),
    (
        "Seq2SeqAttentionDecoder",
        lambda: au.Seq2SeqAttentionDecoder(10, 4, 8, 1).init_state(
            (torch.zeros(2, 3, 6), torch.zeros(1, 2, 6))
        ),
        ValueError,
        r"enc_outputs must have shape .* num_hiddens = 8",
    ),
    (
        "Seq2SeqDecoder",
        lambda: au.Seq2SeqDecoder(10, 4, 8, 1)(LONG, "state"),
        TypeError,
        r"state must be the list \[context, hidden_state\]",
    ),
    (
        "EncoderDecoder",
        lambda: _seq2seq().encode(LONG, torch.tensor([1, 4])),
        ValueError,
        r"src_valid_lens must lie in \[0, num_steps\] = \[0, 3\]",
    ),
    (
        "EncoderDecoder",
        lambda: _seq2seq().encode(LONG, torch.tensor([[1, 2]])),
        ValueError,
        r"src_valid_lens must have shape \(batch_size,\)",
    ),
]
CASES += SEQ2SEQ_API_CASES


# --- the sequence side's one API: core switch, sub-layers, the Transformer's decoding contract


def _transformer():
    torch.manual_seed(0)
    return au.Transformer(5, 6, 8, 16, 2, 1, 0.0, 10).eval()


def _set_need_weights(module, value):
    module.need_weights = value


TRANSFORMER_API_CASES = [
    (
        "NeedWeightsMixin",
        lambda: _set_need_weights(au.MultiHeadAttention(4, 4, 4, 4, 2, 0.0), "False"),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "NeedWeightsMixin",
        lambda: _set_need_weights(_transformer(), 1),
        TypeError,
        "need_weights must be True or False",
    ),
    (
        "BilinearAttention",
        lambda: au.BilinearAttention(4, 3, 0.0)(Q, K, V),
        ValueError,
        r"queries must have shape \(batch_size, num_queries, query_size=3\)",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(4, 4, 2, 4, 2, 0.0)(Q, K, V, attn_mask=LONG),
        TypeError,
        "attn_mask must be a bool tensor",
    ),
    (
        "MultiHeadAttention",
        lambda: au.MultiHeadAttention(4, 4, 4, 4, 2, 0.0, bias="yes"),
        TypeError,
        "bias must be True or False",
    ),
    (
        "SublayerConnection",
        lambda: au.SublayerConnection(8, 0.0, norm_first="False"),
        TypeError,
        "norm_first must be True or False",
    ),
    (
        "SublayerConnection",
        lambda: au.SublayerConnection(8, 0.0)(X8, "ffn"),
        TypeError,
        "sublayer must be callable",
    ),
    (
        "SublayerConnection",
        lambda: au.SublayerConnection(6, 0.0)(X8, nn.Identity()),
        ValueError,
        r"X must have shape \(batch_size, num_steps, num_hiddens=6\)",
    ),
    (
        "embed_tokens",
        lambda: au.embed_tokens(nn.Embedding(5, 8), au.PositionalEncoding(8, 0.0), LONG + 4),
        ValueError,
        r"X's token ids must lie in \[0, vocab_size\) = \[0, 5\)",
    ),
    (
        "embed_tokens",
        lambda: au.embed_tokens(nn.Embedding(5, 8), au.PositionalEncoding(6, 0.0), LONG),
        ValueError,
        "embedding has width 8 but pos_encoding 6",
    ),
    (
        "embed_tokens",
        lambda: au.embed_tokens(nn.Linear(5, 8), au.PositionalEncoding(8, 0.0), LONG),
        TypeError,
        "embedding must be an nn.Embedding",
    ),
    (
        "PositionalEncoding",
        lambda: au.PositionalEncoding(8, 0.0, max_len=4)(X8, offset=2),
        ValueError,
        "exceed max_len = 4",
    ),
    (
        "PositionalEncoding",
        lambda: au.PositionalEncoding(8, 0.0)(X8, offset=-1),
        ValueError,
        "offset must be an int >= 0",
    ),
    (
        "TransformerEncoderBlock",
        lambda: au.TransformerEncoderBlock(8, 16, 2, 0.0, bias=1),
        TypeError,
        "bias must be True or False",
    ),
    (
        "TransformerDecoderBlock",
        lambda: au.TransformerDecoderBlock(8, 16, 2, 0.0)(X8, X8, causal="True"),
        TypeError,
        "causal must be True or False",
    ),
    (
        "TransformerDecoderBlock",
        lambda: au.TransformerDecoderBlock(8, 16, 2, 0.0)(X8, X8.double()),
        TypeError,
        "enc_outputs must have the dtype",
    ),
    (
        "TransformerDecoder",
        lambda: au.TransformerDecoder(6, 8, 16, 2, 1, 0.0)(LONG + 5, X8),
        ValueError,
        r"X's token ids must lie in \[0, vocab_size\) = \[0, 6\)",
    ),
    (
        "TransformerDecoder",
        lambda: au.TransformerDecoder(6, 8, 16, 2, 1, 0.0)(LONG, X8, torch.tensor([3, 4])),
        ValueError,
        r"valid_lens must lie in \[0, num_keys\] = \[0, 3\]",
    ),
    (
        "Transformer",
        lambda: au.Transformer(5, 6, 8, 16, 2, 1, 0.0, 10, False, True),
        TypeError,
        "positional argument",
    ),
    (
        "Transformer",
        lambda: _transformer()(LONG + 5, LONG),
        ValueError,
        r"src's token ids must lie in \[0, vocab_size\) = \[0, 5\)",
    ),
    (
        "Transformer",
        lambda: _transformer()(LONG, LONG - 2),
        ValueError,
        r"tgt's token ids must lie in \[0, vocab_size\) = \[0, 6\)",
    ),
    (
        "Transformer",
        lambda: _transformer().encode(LONG.float()),
        TypeError,
        "src must be an integer tensor of token ids",
    ),
    (
        "Transformer",
        lambda: _transformer().encode(LONG, torch.tensor([1, 4])),
        ValueError,
        r"valid_lens must lie in \[0, num_keys\] = \[0, 3\]",
    ),
    (
        "Transformer",
        lambda: _transformer().decode(LONG[:, :1] + 6, _transformer().encode(LONG)),
        ValueError,
        r"X's token ids must lie in \[0, vocab_size\) = \[0, 6\)",
    ),
    (
        "Transformer",
        lambda: _transformer().decode(LONG[:1, :1], _transformer().encode(LONG)),
        ValueError,
        "X must have the state's batch_size 2",
    ),
    (
        "Transformer",
        lambda: _transformer().decode(LONG, {"enc_outputs": None}),
        TypeError,
        "state must be a TransformerState",
    ),
    (
        "Transformer",
        lambda: _transformer().decode(
            torch.zeros(2, 11, dtype=torch.long), _transformer().encode(LONG)
        ),
        ValueError,
        "exceed max_len = 10",
    ),
    (
        "Transformer",
        lambda: _transformer().reorder_state(_transformer().encode(LONG), torch.tensor([2])),
        ValueError,
        r"index must name rows in \[0, batch_size\) = \[0, 2\)",
    ),
    (
        "Transformer",
        lambda: _transformer().reorder_state(_transformer().encode(LONG), [0, 1]),
        TypeError,
        "index must be an integer tensor",
    ),
    (
        "Transformer",
        lambda: _transformer().encode(LONG, use_cache="no"),
        TypeError,
        "use_cache must be True or False",
    ),
    (
        "TorchTransformer",
        lambda: _transformer().as_torch()(LONG + 5, LONG),
        ValueError,
        r"src's token ids must lie in \[0, vocab_size\)",
    ),
]
CASES += TRANSFORMER_API_CASES


# explorers (attention_utils/explorers): the helper and one explorer per chapter
_SPEC = {"params": [{"name": "h", "value": 1, "bind": {"input": "range"}}]}
CASES += [
    ("Explorer", lambda: au.Explorer([], "x", ["h"]), TypeError, "spec must be a dict"),
    ("Explorer", lambda: au.Explorer(_SPEC, 3, ["h"]), TypeError, "name must be a string"),
    ("Explorer", lambda: au.Explorer(_SPEC, "", ["h"]), ValueError, "name must not be empty"),
    ("Explorer", lambda: au.Explorer(_SPEC, "x", "h"), TypeError, "controls must be a sequence"),
    ("Explorer", lambda: au.Explorer(_SPEC, "x", ["w"]), ValueError, "controls must name bound"),
    (
        "Explorer",
        lambda: au.Explorer({**_SPEC, "datasets": {"d": ["x" * 300_000]}}, "x", ["h"]),
        ValueError,
        "keep it under MAX_DATA_BYTES",
    ),
    ("slider", lambda: au.slider(3, [0, 1]), TypeError, "name must be a string"),
    ("slider", lambda: au.slider("a b", [0, 1]), ValueError, "name must be an identifier"),
    ("slider", lambda: au.slider("h", ["0", "1"]), TypeError, "values must be numbers"),
    ("slider", lambda: au.slider("h", [1]), ValueError, "values must hold at least two"),
    ("slider", lambda: au.slider("h", [0, 1, 3]), ValueError, "values must be evenly spaced"),
    ("slider", lambda: au.slider("h", [0, 1], value=0.5), ValueError, "value must be one of"),
    ("dropdown", lambda: au.dropdown(None, ["a", "b"]), TypeError, "name must be a string"),
    ("dropdown", lambda: au.dropdown("k", ["a"]), ValueError, "options must hold at least two"),
    ("dropdown", lambda: au.dropdown("k", ["a", "b"], value="c"), ValueError, "value must be one"),
    ("pick", lambda: au.pick(1), TypeError, "name must be a string"),
    ("pick", lambda: au.pick("h", field="a-b"), ValueError, "field must be an identifier"),
    ("make_explorer", lambda: au.make_explorer({}, "x", ["h"], {}), TypeError, "chart must be"),
    (
        "make_explorer",
        lambda: au.make_explorer(_chart(), "x", ["h"], {"d": {}}),
        TypeError,
        "datasets must be a dict",
    ),
    (
        "make_explorer",
        lambda: au.make_explorer(_chart(), "x", ["h"], {}, width=0),
        ValueError,
        "width must be",
    ),
    ("cues_explorer", lambda: au.cues_explorer(num_keys=1), ValueError, "num_keys must be"),
    ("cues_explorer", lambda: au.cues_explorer(num_keys=2.0), TypeError, "num_keys must be"),
    (
        "kernel_regression_explorer",
        lambda: au.kernel_regression_explorer(n_train=0),
        ValueError,
        "n_train",
    ),
    ("scoring_explorer", lambda: au.scoring_explorer(num_keys=17), ValueError, "num_keys must"),
    ("scoring_explorer", lambda: au.scoring_explorer(seed="0"), TypeError, "seed must be"),
    ("multihead_explorer", lambda: au.multihead_explorer(num_heads=3), ValueError, "num_heads"),
    ("multihead_explorer", lambda: au.multihead_explorer(seed=0.5), TypeError, "seed must be"),
    (
        "channel_spatial_explorer",
        lambda: au.channel_spatial_explorer(channels=5),
        ValueError,
        "channels must be even",
    ),
    (
        "channel_spatial_explorer",
        lambda: au.channel_spatial_explorer(size=4),
        ValueError,
        "size must be",
    ),
    ("alignment_explorer", lambda: au.alignment_explorer(max_len=21), ValueError, "max_len must"),
    ("alignment_explorer", lambda: au.alignment_explorer(width=0), ValueError, "width must be"),
    ("efficient_explorer", lambda: au.efficient_explorer(head_dim=4), ValueError, "head_dim must"),
    ("efficient_explorer", lambda: au.efficient_explorer(head_dim="64"), TypeError, "head_dim"),
    ("kv_cache_explorer", lambda: au.kv_cache_explorer(num_steps=1), ValueError, "num_steps"),
    ("kv_cache_explorer", lambda: au.kv_cache_explorer(seed=None), TypeError, "seed must be"),
    ("non_local_explorer", lambda: au.non_local_explorer(size=15), ValueError, "size must be"),
    ("non_local_explorer", lambda: au.non_local_explorer(size=8.0), TypeError, "size must be"),
    ("zoo_explorer", lambda: au.zoo_explorer(channels=(48,)), ValueError, "channels must be"),
    ("zoo_explorer", lambda: au.zoo_explorer(channels=(32, 16)), ValueError, "channels must be"),
    ("zoo_explorer", lambda: au.zoo_explorer(size=2), ValueError, "size must be"),
    # explorers of Part III (chapter 12)
    ("rope_explorer", lambda: au.rope_explorer(head_dim=15), ValueError, "head_dim must be"),
    ("rope_explorer", lambda: au.rope_explorer(max_distance=8.0), TypeError, "max_distance must"),
    # explorer of chapter 13 (where the model looks)
    ("rollout_explorer", lambda: au.rollout_explorer(num_tokens=17), ValueError, "num_tokens"),
    ("rollout_explorer", lambda: au.rollout_explorer(num_layers=0), ValueError, "num_layers"),
    ("rollout_explorer", lambda: au.rollout_explorer(seed=1.5), TypeError, "seed must be"),
    # chapter 11's explorer (attention_utils/explorers/part3_graphs.py)
    ("graph_lookup_explorer", lambda: au.graph_lookup_explorer(num_keys=13), ValueError, "num_k"),
    ("graph_lookup_explorer", lambda: au.graph_lookup_explorer(num_keys=1), ValueError, "num_k"),
    ("graph_lookup_explorer", lambda: au.graph_lookup_explorer(seed="0"), TypeError, "seed"),
]


def _chart():
    import altair as alt

    return alt.Chart(alt.Data(name="d")).mark_point().add_params(au.slider("h", [0, 1]))


# --- chapter 07: the Transformer's weight tying (Vaswani et al. sec. 3.4)
CASES.append(
    (
        "Transformer",
        lambda: au.Transformer(5, 6, 8, 16, 2, 1, 0.0, tie_weights="yes"),
        TypeError,
        "tie_weights must be True or False",
    )
)


@pytest.mark.parametrize(
    ("name", "call", "error", "pattern"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_bad_arguments_raise_the_documented_error(name, call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call()
    assert type(info.value) is error  # not a subclass raised deep inside torch


# Public names that are not callables a reader passes arguments to (data, constants, records).
NOT_CALLED = {
    "AGENTS",
    "AGENT_ADJECTIVES",
    "ATTENTION_MODULES",
    "ATTENTION_PLACES",
    "AttentionEntry",
    "BabiData",
    "ChannelShapesData",
    "CoreferenceData",
    "DistortedDigitsData",
    "DecoderLayerCache",
    "DictionaryLookupData",
    "KERNELS",
    "MarkedNeighbourData",
    "PLACES",
    "PLACE_ADJECTIVES",
    "POSITION_METHODS",
    "RegressionData",
    "RetrievalData",
    "TrainingHistory",
    "TransformerState",
    "TranslationBatch",
    "TranslationData",
    "TranslationSplit",
    "TwoMarksData",
    "VERBS",
}


def test_every_public_callable_is_walked():
    public = {
        name
        for name in au.__all__
        if (inspect.isclass(getattr(au, name)) or inspect.isfunction(getattr(au, name)))
        and name not in NOT_CALLED
    }
    walked = {case[0] for case in CASES}
    assert public - walked == set(), "add bad-argument cases for these public names"
    assert walked <= set(au.__all__)


# --- where the model looks (chapter 13): records, not called with arguments
NOT_CALLED.update({"CaptionOutput", "SceneData"})
