"""A tiny causal Transformer whose positions can be swapped: the length-extrapolation experiment.

Sources:
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762 (sinusoidal
    and learned absolute positions).
    J. Su et al., "RoFormer", 2021, arXiv:2104.09864 (RoPE).
    O. Press, N. A. Smith, M. Lewis, "Train short, test long", ICLR 2022, arXiv:2108.12409 (ALiBi,
    and the protocol: train on length N, test on longer inputs).
    A. Kazemnejad et al., "The impact of positional encoding on length generalization in
    transformers", NeurIPS 2023, arXiv:2305.19466 (no positional encoding in a causal model).
    G. Xiao et al., "Efficient streaming language models with attention sinks", ICLR 2024,
    arXiv:2309.17453 (evaluation through a window, with and without the first tokens).

:class:`PositionalLM` is one small pre-norm decoder-only Transformer in which only the way
positions enter changes: ``"sinusoidal"`` and ``"learned"`` add a vector to each token embedding;
``"rope"`` rotates queries and keys; ``"alibi"`` adds a distance penalty to the scores;
``"none"`` gives no position at all (the causal mask alone lets a model count). Every attention
goes through the core :func:`~attention_utils.scoring.attention`. :func:`copy_back_data` makes
the task and :func:`accuracy_by_length` measures a model on longer inputs, optionally through a
sliding window with or without sinks.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .checks import require_choice, require_int, require_positive, require_positive_int
from .positions import alibi_bias, apply_rotary
from .scoring import attention
from .transformer import PositionalEncoding
from .windows import sliding_window_mask

__all__ = ["POSITION_METHODS", "PositionalLM", "accuracy_by_length", "copy_back_data", "train_lm"]

POSITION_METHODS = ("sinusoidal", "learned", "rope", "alibi", "none")


class _Block(nn.Module):
    """Pre-norm block: ``x + Attn(LN(x))`` then ``x + MLP(LN(x))``."""

    def __init__(self, num_hiddens: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm1, self.norm2 = nn.LayerNorm(num_hiddens), nn.LayerNorm(num_hiddens)
        self.qkv = nn.Linear(num_hiddens, 3 * num_hiddens)
        self.out = nn.Linear(num_hiddens, num_hiddens)
        hidden = 4 * num_hiddens
        self.mlp = nn.Sequential(
            nn.Linear(num_hiddens, hidden), nn.GELU(), nn.Linear(hidden, num_hiddens)
        )

    def forward(
        self, x: torch.Tensor, position: str, mask: torch.Tensor | None, need_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        qkv = self.qkv(self.norm1(x)).unflatten(-1, (3, self.num_heads, -1))  # (b, n, 3, h, hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (batch_size, num_heads, num_steps, head_dim)
        n = x.shape[1]
        if position == "rope":
            q, k = apply_rotary(q), apply_rotary(k)
        attn_mask, causal = mask, mask is None
        if position == "alibi":
            bias = alibi_bias(self.num_heads, n, n, dtype=x.dtype, device=x.device)  # (h, n, n)
            if mask is None:
                mask = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
            attn_mask = bias.masked_fill(~mask, torch.finfo(x.dtype).min)
            causal = False
        out, weights = attention(q, k, v, attn_mask=attn_mask, causal=causal,
                                 need_weights=need_weights)  # (b, h, n, hd)
        x = x + self.out(out.transpose(1, 2).flatten(2))  # (batch_size, num_steps, num_hiddens)
        return x + self.mlp(self.norm2(x)), weights


class PositionalLM(nn.Module):
    """A small causal Transformer language model with a choice of positional scheme.

    Args:
        vocab_size: number of token ids.
        num_hiddens: width d.
        num_heads: number of heads (d divisible by it, ``d / num_heads`` even for RoPE).
        num_layers: number of blocks.
        position: one of :data:`POSITION_METHODS`.
        max_len: the longest input (the size of the learned and sinusoidal tables).

    Attributes:
        need_weights: if True, ``forward`` keeps each block's weights in ``attention_weights``.
        attention_weights: None, or a list of ``(batch_size, num_heads, n, n)`` per block.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if a size is not positive, ``position`` is unknown, or the head width does not
            fit (``num_heads`` must divide ``num_hiddens``; RoPE needs an even head width).
    """

    def __init__(
        self,
        vocab_size: int,
        num_hiddens: int,
        num_heads: int,
        num_layers: int,
        position: str,
        max_len: int,
    ) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("num_hiddens", num_hiddens),
                            ("num_heads", num_heads), ("num_layers", num_layers),
                            ("max_len", max_len)):
            require_positive_int(name, value)
        self.position = require_choice("position", position, POSITION_METHODS)
        if num_hiddens % num_heads or (position == "rope" and (num_hiddens // num_heads) % 2):
            raise ValueError(
                f"num_heads ({num_heads}) must divide num_hiddens ({num_hiddens}) into heads of "
                "a width that is even for rope"
            )
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        if position == "sinusoidal":
            self.pos = PositionalEncoding(num_hiddens, 0.0, max_len)
        elif position == "learned":
            self.pos_table = nn.Parameter(torch.randn(max_len, num_hiddens) * 0.02)
        self.blocks = nn.ModuleList(_Block(num_hiddens, num_heads) for _ in range(num_layers))
        self.norm = nn.LayerNorm(num_hiddens)
        self.head = nn.Linear(num_hiddens, vocab_size)
        self.need_weights = False
        self.attention_weights: list[torch.Tensor] | None = None

    def forward(
        self, tokens: torch.Tensor, window: int | None = None, num_sinks: int = 0
    ) -> torch.Tensor:
        """Next-token logits.

        Args:
            tokens: long ``(batch_size, num_steps)``, ids in ``[0, vocab_size)``,
                ``num_steps <= max_len``.
            window: None for full causal attention; else each query sees only its last
                ``window`` keys (:func:`~attention_utils.windows.sliding_window_mask`), as a
                rolling cache of that size would give it.
            num_sinks: with a window, the first keys every query keeps seeing.

        Returns:
            ``(batch_size, num_steps, vocab_size)``.

        Raises:
            TypeError: if ``tokens`` is not an integer tensor or ``window`` not an int.
            ValueError: if ``tokens`` is not 2-D, out of the vocabulary, or longer than
                ``max_len``.
        """
        if not isinstance(tokens, torch.Tensor) or tokens.is_floating_point():
            raise TypeError("tokens must be an integer tensor of token ids")
        vocab_size = self.embedding.num_embeddings
        if tokens.dim() != 2 or tokens.shape[1] > self.max_len or tokens.shape[1] < 1:
            raise ValueError(
                f"tokens must have shape (batch_size, num_steps) with 1 <= num_steps <= "
                f"max_len = {self.max_len}, got {tuple(tokens.shape)}"
            )
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
            raise ValueError(f"tokens must be ids in [0, {vocab_size})")
        n = tokens.shape[1]
        mask = None
        if window is not None:
            mask = sliding_window_mask(n, n, window, num_sinks=num_sinks, device=tokens.device)
        elif require_int("num_sinks", num_sinks, minimum=0):
            raise ValueError("num_sinks needs a window")
        x = self.embedding(tokens) * math.sqrt(self.embedding.embedding_dim)  # (b, n, d)
        if self.position == "sinusoidal":
            x = self.pos(x)
        elif self.position == "learned":
            x = x + self.pos_table[:n]
        weights = []
        for block in self.blocks:
            x, w = block(x, self.position, mask, self.need_weights)
            weights.append(None if w is None else w.detach())
        self.attention_weights = weights if self.need_weights else None
        return self.head(self.norm(x))  # (batch_size, num_steps, vocab_size)


def copy_back_data(
    batch_size: int, num_steps: int, vocab_size: int, offset: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The copy task: random tokens, and at step t the target is the token ``offset`` steps back.

    Steps ``t < offset`` have no target (-1, ignored by the loss and the accuracy).

    Returns:
        ``(tokens, targets)``, both long ``(batch_size, num_steps)``.

    Raises:
        TypeError / ValueError: if a size is not a positive int or ``offset`` not smaller than
            ``num_steps``.
    """
    for name, value in (("batch_size", batch_size), ("num_steps", num_steps),
                        ("vocab_size", vocab_size), ("offset", offset)):
        require_positive_int(name, value)
    if offset >= num_steps:
        raise ValueError(f"offset ({offset}) must be smaller than num_steps ({num_steps})")
    tokens = torch.randint(vocab_size, (batch_size, num_steps), generator=generator)
    targets = torch.full_like(tokens, -1)
    targets[:, offset:] = tokens[:, :-offset]
    return tokens, targets


@torch.no_grad()
def accuracy_by_length(
    net: PositionalLM,
    make_batch,
    lengths: list[int],
    window: int | None = None,
    num_sinks: int = 0,
) -> list[float]:
    """The fraction of targets predicted right at each test length (targets -1 not counted).

    Args:
        net: a trained model (put in eval mode here, restored after).
        make_batch: ``make_batch(num_steps) -> (tokens, targets)``.
        lengths: the test lengths.
        window, num_sinks: as :meth:`PositionalLM.forward`.

    Returns:
        One accuracy in [0, 1] per length.

    Raises:
        TypeError: if ``net`` is not a :class:`PositionalLM`, ``make_batch`` is not callable or
            a length is not an int.
        ValueError: if ``lengths`` is empty or a length is not positive.
    """
    _check_net_and_batches(net, make_batch)
    if not isinstance(lengths, (list, tuple)) or not lengths:
        raise ValueError(f"lengths must be a non-empty list of ints, got {lengths!r}")
    for n in lengths:
        require_positive_int("lengths", n)
    was_training = net.training
    net.eval()
    result = []
    for n in lengths:
        tokens, targets = make_batch(n)
        predicted = net(tokens, window=window, num_sinks=num_sinks).argmax(-1)
        counted = targets >= 0
        result.append(float((predicted == targets)[counted].float().mean()))
    net.train(was_training)
    return result


def _check_net_and_batches(net: object, make_batch: object) -> None:
    if not isinstance(net, PositionalLM):
        raise TypeError(f"net must be a PositionalLM, got {type(net).__name__}")
    if not callable(make_batch):
        raise TypeError("make_batch must be a callable num_steps -> (tokens, targets)")


def train_lm(net: PositionalLM, make_batch, num_steps: int, steps: int, lr: float) -> float:
    """Adam on next-token cross-entropy (targets -1 ignored), one fresh batch per step.

    Args:
        net: the model to train (left in train mode).
        make_batch: ``make_batch(num_steps) -> (tokens, targets)``.
        num_steps: the training length N.
        steps: the number of updates.
        lr: Adam's learning rate.

    Returns:
        The loss of the last batch.

    Raises:
        TypeError: if ``net`` is not a :class:`PositionalLM`, ``make_batch`` is not callable or
            a number has the wrong type.
        ValueError: if a number is not positive.
    """
    _check_net_and_batches(net, make_batch)
    require_positive_int("num_steps", num_steps)
    require_positive_int("steps", steps)
    lr = require_positive("lr", lr)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(steps):
        tokens, targets = make_batch(num_steps)
        logits = net(tokens)  # (batch_size, num_steps, vocab_size)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return float(loss.detach())
