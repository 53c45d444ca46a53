"""The Transformer's parts around attention: positions, embedding, FFN, Add & Norm, sub-layers.

Sources:
    A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser,
    I. Polosukhin, "Attention is all you need", NeurIPS 2017, arXiv:1706.03762: the position-wise
    feed-forward network (sec. 3.3), embeddings scaled by sqrt(d_model) (sec. 3.4), sinusoidal
    positional encoding (sec. 3.5), residual connections with layer normalisation after each
    sub-layer, "post-norm" (sec. 3.1).
    R. Xiong et al., "On layer normalization in the Transformer architecture", ICML 2020,
    arXiv:2002.04745 (pre-norm).
    J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer normalization", 2016, arXiv:1607.06450.
    Names and argument order follow D2L (Zhang et al., *Dive into Deep Learning*, 2023, secs.
    11.6-11.7, arXiv:2106.11342); :class:`SublayerConnection` is the Annotated Transformer's
    (Rush, 2018; Huang et al., 2022).

The encoder (``transformer``) and the decoder (``transformer_decoder``) share these pieces: both
embed their tokens with :func:`embed_tokens` and wrap every sub-layer in a
:class:`SublayerConnection`, so "embed, scale, add positions" and the pre-/post-norm branch are
written once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .checks import (
    check_tokens,
    require_bool,
    require_dtype,
    require_int,
    require_positive_int,
    require_probability,
    require_sequence,
    require_tensor,
)

__all__ = [
    "AddNorm",
    "PositionWiseFFN",
    "PositionalEncoding",
    "SublayerConnection",
    "embed_tokens",
]


class PositionalEncoding(nn.Module):
    """Add sinusoidal positional encodings to a sequence, then dropout.

    ``P[t, 2j] = sin(t / 10000^(2j / d))`` and ``P[t, 2j + 1] = cos(t / 10000^(2j / d))`` for
    position ``t`` and ``d = num_hiddens``; the output is ``dropout(X + P[:num_steps])``.
    The table is computed and kept in float64 and cast to the input's dtype in ``forward``: a
    float32 input gets each entry rounded once (within 1e-6 of the formula for t < 1000), a
    float64 input gets float64 precision. (``module.to(dtype)`` casts the table too, like any
    floating buffer.)
    Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.5; D2L sec. 11.6.

    Args:
        num_hiddens: width ``d`` of the representations, even.
        dropout: dropout probability on the sum in training.
        max_len: the longest sequence it can encode.

    Attributes:
        P: the table of encodings, a float64 buffer of shape ``(1, max_len, num_hiddens)``.

    Raises:
        TypeError: if ``num_hiddens`` or ``max_len`` is not an int or ``dropout`` not a number.
        ValueError: if ``num_hiddens`` is odd or not positive, ``max_len < 1``, or ``dropout`` is
            not in [0, 1).
    """

    def __init__(self, num_hiddens: int, dropout: float, max_len: int = 1000) -> None:
        super().__init__()
        require_positive_int("num_hiddens", num_hiddens)
        require_positive_int("max_len", max_len)
        if num_hiddens % 2:
            raise ValueError(f"num_hiddens must be even (sin and cos in pairs), got {num_hiddens}")
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        positions = torch.arange(max_len, dtype=torch.float64)[:, None]  # (max_len, 1)
        exponents = torch.arange(0, num_hiddens, 2, dtype=torch.float64) / num_hiddens
        angles = positions / torch.pow(10000.0, exponents)  # (max_len, num_hiddens / 2)
        P = torch.zeros(1, max_len, num_hiddens, dtype=torch.float64)  # (1, max_len, num_hiddens)
        P[0, :, 0::2] = torch.sin(angles)
        P[0, :, 1::2] = torch.cos(angles)
        self.register_buffer("P", P, persistent=False)

    def forward(self, X: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """``dropout(X + P[offset : offset + num_steps])``.

        Args:
            X: ``(batch_size, num_steps, num_hiddens)`` with ``offset + num_steps <= max_len``.
            offset: the position of ``X``'s first step (nonzero when a decoder continues a
                sequence step by step).

        Returns:
            ``(batch_size, num_steps, num_hiddens)``, ``X``'s dtype.

        Raises:
            TypeError: if ``X`` is not a floating-point tensor or ``offset`` not an int.
            ValueError: if ``X`` is not 3-D, its width is not ``num_hiddens``, ``offset`` is
                negative, or the positions run past ``max_len``.
        """
        _, max_len, num_hiddens = self.P.shape
        require_sequence("X", X, num_hiddens, "num_hiddens")
        require_int("offset", offset, minimum=0)
        if offset + X.shape[1] > max_len:
            raise ValueError(
                f"positions up to offset + num_steps = {offset + X.shape[1]} exceed "
                f"max_len = {max_len}"
            )
        P = self.P[:, offset : offset + X.shape[1]].to(X.dtype)  # (1, num_steps, num_hiddens)
        return self.dropout(X + P)  # (batch_size, num_steps, num_hiddens)


def embed_tokens(
    embedding: nn.Embedding,
    pos_encoding: PositionalEncoding,
    X: torch.Tensor,
    offset: int = 0,
    *,
    name: str = "X",
) -> torch.Tensor:
    """``dropout(sqrt(d) Embedding(X) + P[offset : offset + num_steps])``: tokens to vectors.

    The input stage of the Transformer's encoder and decoder (Vaswani et al., NeurIPS 2017,
    arXiv:1706.03762, sec. 3.4: "we multiply those weights by sqrt(d_model)"; sec. 3.5).

    Args:
        embedding: the ``nn.Embedding(vocab_size, d)``.
        pos_encoding: a :class:`PositionalEncoding` of width ``d``.
        X: token ids ``(batch_size, num_steps)`` in ``[0, vocab_size)``.
        offset: the position of the first token (a decoder continuing from a cache).
        name: the caller's name for ``X``, used in error messages.

    Returns:
        ``(batch_size, num_steps, d)`` in the embedding's dtype, on its device.

    Raises:
        TypeError: if a module has the wrong type, ``X`` is not an integer tensor or ``offset``
            not an int.
        ValueError: for token ids outside the vocabulary (the message names ``name``), widths
            that differ, or positions past ``max_len``.
    """
    if not isinstance(embedding, nn.Embedding):
        raise TypeError(f"embedding must be an nn.Embedding, got {type(embedding).__name__}")
    if not isinstance(pos_encoding, PositionalEncoding):
        raise TypeError(
            f"pos_encoding must be a PositionalEncoding, got {type(pos_encoding).__name__}"
        )
    if pos_encoding.P.shape[-1] != embedding.embedding_dim:
        raise ValueError(
            f"embedding has width {embedding.embedding_dim} but pos_encoding "
            f"{pos_encoding.P.shape[-1]}"
        )
    check_tokens(name, X, embedding.num_embeddings)
    H = embedding(X) * math.sqrt(embedding.embedding_dim)  # (batch_size, num_steps, d)
    return pos_encoding(H, offset)  # (batch_size, num_steps, d)


class PositionWiseFFN(nn.Module):
    """The position-wise feed-forward network ``FFN(x) = W_2 ReLU(W_1 x + b_1) + b_2``.

    The same two-layer MLP is applied to every position separately. Vaswani et al., NeurIPS 2017,
    arXiv:1706.03762, sec. 3.3; D2L sec. 11.7 (with explicit input width).

    Args:
        ffn_num_input: width of the input at each position.
        ffn_num_hiddens: width of the hidden layer (4x the input in Vaswani et al.).
        ffn_num_outputs: width of the output at each position.

    Raises:
        TypeError: if a width is not an int.
        ValueError: if a width is not positive.
    """

    def __init__(self, ffn_num_input: int, ffn_num_hiddens: int, ffn_num_outputs: int) -> None:
        super().__init__()
        for name, value in (
            ("ffn_num_input", ffn_num_input),
            ("ffn_num_hiddens", ffn_num_hiddens),
            ("ffn_num_outputs", ffn_num_outputs),
        ):
            require_positive_int(name, value)
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``(batch_size, num_steps, ffn_num_input)`` -> ``(..., ffn_num_outputs)``.

        Any leading dimensions work; only the last one is transformed.

        Raises:
            TypeError: if ``X`` is not a floating tensor of the parameters' dtype.
            ValueError: if ``X``'s last dimension is not ``ffn_num_input``.
        """
        require_tensor("X", X)
        if X.dim() == 0 or X.shape[-1] != self.dense1.in_features:
            raise ValueError(
                f"X must have shape (..., ffn_num_input={self.dense1.in_features}), "
                f"got {tuple(X.shape)}"
            )
        require_dtype("X", X, self)
        return self.dense2(self.relu(self.dense1(X)))  # (batch_size, num_steps, ffn_num_outputs)


class AddNorm(nn.Module):
    """Residual connection followed by layer normalisation: ``LayerNorm(X + dropout(Y))``.

    "Add & Norm" of Vaswani et al., NeurIPS 2017, arXiv:1706.03762, sec. 3.1 (post-norm); layer
    normalisation of Ba et al., 2016, arXiv:1607.06450; D2L sec. 11.7. The blocks use
    :class:`SublayerConnection`, which also has the pre-norm order.

    Args:
        norm_shape: the trailing shape to normalise over, e.g. ``num_hiddens``.
        dropout: dropout probability on ``Y`` in training.

    Raises:
        TypeError: if ``norm_shape`` is not an int or a tuple of ints, or ``dropout`` not a number.
        ValueError: if a size in ``norm_shape`` is not positive or ``dropout`` not in [0, 1).
    """

    def __init__(self, norm_shape: int | tuple[int, ...], dropout: float) -> None:
        super().__init__()
        sizes = norm_shape if isinstance(norm_shape, (tuple, list, torch.Size)) else (norm_shape,)
        if not isinstance(norm_shape, (tuple, list, torch.Size)) and not isinstance(
            norm_shape, int
        ):
            raise TypeError(
                f"norm_shape must be an int or a tuple of ints, got {type(norm_shape).__name__}"
            )
        for size in sizes:
            require_positive_int("norm_shape", size)
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.ln = nn.LayerNorm(norm_shape)

    def forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """``X`` and ``Y`` of the same shape ``(batch_size, num_steps, num_hiddens)`` -> that shape.

        Raises:
            TypeError: if ``X`` or ``Y`` is not a floating tensor of the parameters' dtype.
            ValueError: if ``X`` and ``Y`` have different shapes, or their trailing shape is not
                ``norm_shape``.
        """
        require_tensor("X", X)
        require_tensor("Y", Y)
        if X.shape != Y.shape:
            raise ValueError(
                f"X and Y must have the same shape, got {tuple(X.shape)} and {tuple(Y.shape)}"
            )
        norm_shape = tuple(self.ln.normalized_shape)
        if tuple(X.shape[X.dim() - len(norm_shape) :]) != norm_shape:
            raise ValueError(f"X and Y must end in norm_shape = {norm_shape}, got {tuple(X.shape)}")
        require_dtype("X", X, self)
        return self.ln(self.dropout(Y) + X)  # (batch_size, num_steps, num_hiddens)


class SublayerConnection(nn.Module):
    """A residual connection and layer normalisation around one sub-layer, post- or pre-norm.

    Post-norm (``norm_first=False``, Vaswani et al., arXiv:1706.03762, sec. 3.1, "Add & Norm"):
    ``LN(X + dropout(sublayer(X)))``. Pre-norm (``norm_first=True``, Xiong et al., ICML 2020,
    arXiv:2002.04745): ``X + dropout(sublayer(LN(X)))``, the residual path left free of any
    normalisation. The Annotated Transformer's ``SublayerConnection``.

    Args:
        num_hiddens: width of the representations.
        dropout: dropout probability on the sub-layer's output in training.
        norm_first: keyword only; pre-norm if True.

    Attributes:
        ln: the ``nn.LayerNorm(num_hiddens)``; dropout: the ``nn.Dropout``.

    Raises:
        TypeError: if ``num_hiddens`` is not an int, ``dropout`` not a number or ``norm_first``
            not a bool.
        ValueError: if ``num_hiddens`` is not positive or ``dropout`` not in [0, 1).
    """

    def __init__(self, num_hiddens: int, dropout: float, *, norm_first: bool = False) -> None:
        super().__init__()
        require_positive_int("num_hiddens", num_hiddens)
        self.norm_first = require_bool("norm_first", norm_first)
        self.dropout = nn.Dropout(require_probability("dropout", dropout))
        self.ln = nn.LayerNorm(num_hiddens)

    def forward(
        self, X: torch.Tensor, sublayer: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """Apply ``sublayer`` with the residual connection and the normalisation.

        Args:
            X: ``(batch_size, num_steps, num_hiddens)``.
            sublayer: a function from that shape to that shape (an attention, an FFN).

        Returns:
            ``(batch_size, num_steps, num_hiddens)``.

        Raises:
            TypeError: if ``X`` is not a floating tensor or ``sublayer`` is not callable.
            ValueError: if ``X``'s last dimension is not ``num_hiddens``.
        """
        require_sequence("X", X, self.ln.normalized_shape[0], "num_hiddens")
        if not callable(sublayer):
            raise TypeError(f"sublayer must be callable, got {type(sublayer).__name__}")
        if self.norm_first:
            return X + self.dropout(sublayer(self.ln(X)))  # (batch_size, num_steps, num_hiddens)
        return self.ln(self.dropout(sublayer(X)) + X)  # (batch_size, num_steps, num_hiddens)
