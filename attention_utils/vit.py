"""Attention over patches: Outlook attention (VOLO) and the Vision Transformer (chapter 08).

Papers:

- ViT: Alexey Dosovitskiy, Lucas Beyer, Alexander Kolesnikov, Dirk Weissenborn, Xiaohua Zhai,
  Thomas Unterthiner, Mostafa Dehghani, Matthias Minderer, Georg Heigold, Sylvain Gelly, Jakob
  Uszkoreit, Neil Houlsby, "An Image is Worth 16x16 Words: Transformers for Image Recognition
  at Scale", ICLR 2021, arXiv:2010.11929.
- VOLO: Li Yuan, Qibin Hou, Zihang Jiang, Jiashi Feng, Shuicheng Yan, "VOLO: Vision Outlooker
  for Visual Recognition", TPAMI 2022, arXiv:2106.13112.

Both go through the book's attention core: outlook attention pools its predicted weights with
:func:`~attention_utils.scoring.attention_pool`; the ViT's blocks call
:func:`~attention_utils.scoring.attention`. The ViT is built as the paper builds it (eqs. 1-4):
pre-norm blocks, a GELU MLP and a final layer norm.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .checks import require_bool, require_feature_map, require_positive_int, require_probability
from .core import NeedWeightsMixin
from .scoring import attention, attention_pool

__all__ = ["OutlookAttention", "VisionTransformer", "vit_num_parameters"]


class OutlookAttention(NeedWeightsMixin, nn.Module):
    """Outlook attention: each position predicts the weights of its own k x k window.

    For the window of k x k positions around (the pooled) position i, a linear layer maps
    ``x_i`` straight to the ``k^2 x k^2`` weights per head, ``A_i = softmax(W_A x_i / sqrt(d))``
    (no query-key product), which mix the window's values ``V = W_v x``; overlapping windows
    are summed back (fold) and projected, ``y = W_o fold(A V)``. Parameters:
    ``C^2`` (``W_v``, no bias) ``+ (C + 1) k^4 h`` (``W_A``) ``+ C^2 + C`` (``W_o``).

    Args:
        channels: C.
        num_heads: h; must divide C.
        kernel_size: k, odd.
        stride: the weights are predicted on a ``stride``-pooled grid (1: every position).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input and output ``(batch_size, channels, H, W)``; ``attention_weights`` (when
        ``need_weights``) ``(batch_size, num_heads, L, k^2, k^2)``, L the pooled positions.

    Raises:
        TypeError: for a size that is not an int or an input that is not floating.
        ValueError: for a size below 1, ``num_heads`` not dividing ``channels``, an even
            ``kernel_size``, or an input not ``(batch_size, channels, H, W)``.

    Source: Yuan et al., "VOLO", arXiv:2106.13112, sec. 3.1, algorithm 1.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int,
        kernel_size: int = 3,
        stride: int = 1,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.channels = require_positive_int("channels", channels)
        self.num_heads = require_positive_int("num_heads", num_heads)
        self.kernel_size = require_positive_int("kernel_size", kernel_size)
        self.stride = require_positive_int("stride", stride)
        if channels % num_heads:
            raise ValueError(f"num_heads ({num_heads}) must divide channels ({channels})")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (a centred window), got {kernel_size}")
        self.need_weights = require_bool("need_weights", need_weights)
        self.v = nn.Linear(channels, channels, bias=False)
        self.attn = nn.Linear(channels, kernel_size**4 * num_heads)
        self.proj = nn.Linear(channels, channels)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        B, C, H, W = x.shape
        k, s, h = self.kernel_size, self.stride, self.num_heads
        v = self.v(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # (B, C, H, W)
        v = F.unfold(v, k, padding=k // 2, stride=s)  # (B, C k^2, L)
        L = v.shape[-1]
        v = v.view(B, h, C // h, k * k, L).permute(0, 1, 4, 3, 2)  # (B, h, L, k^2, C/h)
        pooled = F.avg_pool2d(x, s, s, ceil_mode=True) if s > 1 else x  # (B, C, H/s, W/s)
        scores = self.attn(pooled.permute(0, 2, 3, 1)).view(B, L, h, k * k, k * k)
        scores = scores.transpose(1, 2) / math.sqrt(C // h)  # (B, h, L, k^2, k^2)
        # The weights come from a linear layer, not from q . k: the core pools with them.
        y, weights = attention_pool(scores, v)  # (B, h, L, k^2, C/h)
        self.attention_weights = weights.detach() if self.need_weights else None
        y = y.permute(0, 1, 4, 3, 2).reshape(B, C * k * k, L)  # (B, C k^2, L)
        y = F.fold(y, (H, W), k, padding=k // 2, stride=s)  # (B, C, H, W)
        return self.proj(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # (B, C, H, W)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, num_heads={self.num_heads}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}"
        )


def vit_num_parameters(
    image_size: int,
    patch_size: int,
    in_channels: int,
    num_classes: int,
    num_hiddens: int,
    num_blks: int,
    ffn_num_hiddens: int,
) -> int:
    """The parameter count of :class:`VisionTransformer`, in closed form.

    Patch embedding ``(c p^2 + 1) d``, class token ``d``, positions ``(N + 1) d``, per layer
    ``4 d^2 + 4 d`` (the attention's W^Q, W^K, W^V, W^O with biases) ``+ 2 d m + m + d`` (MLP)
    ``+ 4 d`` (two layer norms), the final layer norm ``2 d`` and the head ``(d + 1) K``, with
    ``N = (image_size / patch_size)^2`` and K = ``num_classes``.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if an argument is not positive or ``patch_size`` does not divide
            ``image_size``.
    """
    for name, value in (
        ("image_size", image_size),
        ("patch_size", patch_size),
        ("in_channels", in_channels),
        ("num_classes", num_classes),
        ("num_hiddens", num_hiddens),
        ("num_blks", num_blks),
        ("ffn_num_hiddens", ffn_num_hiddens),
    ):
        require_positive_int(name, value)
    if image_size % patch_size:
        raise ValueError(f"patch_size ({patch_size}) must divide image_size ({image_size})")
    d, m = num_hiddens, ffn_num_hiddens
    n = (image_size // patch_size) ** 2
    per_layer = (4 * d * d + 4 * d) + (2 * d * m + m + d) + 4 * d
    return (
        (in_channels * patch_size**2 + 1) * d
        + d
        + (n + 1) * d
        + num_blks * per_layer
        + 2 * d
        + (d + 1) * num_classes
    )


class _EncoderBlock(NeedWeightsMixin, nn.Module):
    """ViT's pre-norm block: ``z' = MSA(LN(z)) + z``, ``z = MLP(LN(z')) + z'`` (eqs. 2-3)."""

    def __init__(
        self, num_hiddens: int, num_heads: int, ffn_num_hiddens: int, dropout: float
    ) -> None:
        super().__init__()
        self.num_heads, self.dropout_p = num_heads, dropout
        self.ln1, self.ln2 = nn.LayerNorm(num_hiddens), nn.LayerNorm(num_hiddens)
        self.qkv = nn.Linear(num_hiddens, 3 * num_hiddens)  # W^Q, W^K, W^V side by side
        self.proj = nn.Linear(num_hiddens, num_hiddens)  # W^O
        self.mlp = nn.Sequential(
            nn.Linear(num_hiddens, ffn_num_hiddens),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(ffn_num_hiddens, num_hiddens),
            nn.Dropout(dropout),
        )
        self.dropout = nn.Dropout(dropout)
        self.need_weights = False
        self.attention_weights: torch.Tensor | None = None

    def attend(self, z: torch.Tensor) -> torch.Tensor:
        """Multi-head self-attention through the core: ``(B, T, d)`` -> ``(B, T, d)``."""
        B, T, d = z.shape
        q, k, v = (
            t.view(B, T, self.num_heads, -1).transpose(1, 2)  # (B, num_heads, T, d / num_heads)
            for t in self.qkv(z).chunk(3, dim=-1)
        )
        dropout_p = self.dropout_p if self.training else 0.0
        out, weights = attention(q, k, v, dropout_p=dropout_p, need_weights=self.need_weights)
        self.attention_weights = None if weights is None else weights.detach()
        return self.proj(out.transpose(1, 2).reshape(B, T, d))  # (B, T, d)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z + self.dropout(self.attend(self.ln1(z)))  # (B, T, d), eq. (2)
        return z + self.mlp(self.ln2(z))  # (B, T, d), eq. (3)


class VisionTransformer(NeedWeightsMixin, nn.Module):
    """Vision Transformer: an image as a sequence of patch tokens, encoded by Transformer blocks.

    As in the paper (eqs. 1-4):
    ``z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos`` (a strided convolution embeds the N
    non-overlapping ``p x p`` patches; a learned class token and learned position embeddings),
    ``z'_l = MSA(LN(z_{l-1})) + z_{l-1}`` and ``z_l = MLP(LN(z'_l)) + z'_l`` (pre-norm blocks,
    a two-layer MLP with GELU; the attention's projections have biases), ``y = LN(z_L^0)`` and
    ``logits = W y``.

    Args:
        image_size: H = W of the input.
        patch_size: p; must divide ``image_size``.
        in_channels: c.
        num_classes: outputs of the head.
        num_hiddens: d, the token width.
        num_heads: heads per block; must divide d.
        num_blks: blocks.
        ffn_num_hiddens: hidden width of each block's MLP.
        dropout: dropout on embeddings, attention weights, the MLP and residual branches.
        need_weights: each block keeps its last attention weights, detached, in its
            ``attention_weights`` (the core's readable path); False takes the fused path and
            leaves them None. A settable attribute, honoured by every block.

    Shape:
        input ``(batch_size, in_channels, image_size, image_size)``; output
        ``(batch_size, num_classes)``; :meth:`tokens` gives ``(batch_size, N + 1, num_hiddens)``;
        ``attention_weights`` a list with one ``(batch_size, num_heads, N + 1, N + 1)`` tensor
        (or None) per block.

    Raises:
        TypeError, ValueError: for sizes that are not positive ints, ``num_heads`` not dividing
            ``num_hiddens``, ``patch_size`` not dividing ``image_size``, ``dropout`` outside
            [0, 1), or an input of the wrong shape.

    Source: Dosovitskiy et al., ICLR 2021, arXiv:2010.11929, sec. 3.1, eq. (1)-(4).
    """

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        in_channels: int,
        num_classes: int,
        num_hiddens: int,
        num_heads: int,
        num_blks: int,
        ffn_num_hiddens: int,
        dropout: float = 0.0,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (
            ("image_size", image_size),
            ("patch_size", patch_size),
            ("in_channels", in_channels),
            ("num_classes", num_classes),
            ("num_hiddens", num_hiddens),
            ("num_heads", num_heads),
            ("num_blks", num_blks),
            ("ffn_num_hiddens", ffn_num_hiddens),
        ):
            require_positive_int(name, value)
        if image_size % patch_size:
            raise ValueError(f"patch_size ({patch_size}) must divide image_size ({image_size})")
        if num_hiddens % num_heads:
            raise ValueError(f"num_heads ({num_heads}) must divide num_hiddens ({num_hiddens})")
        dropout = require_probability("dropout", dropout)
        self.image_size, self.in_channels = image_size, in_channels
        self.num_patches = (image_size // patch_size) ** 2
        self.patch_embedding = nn.Conv2d(in_channels, num_hiddens, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, num_hiddens))
        self.pos_embedding = nn.Parameter(0.02 * torch.randn(1, self.num_patches + 1, num_hiddens))
        self.dropout = nn.Dropout(dropout)
        self.blks = nn.ModuleList(
            _EncoderBlock(num_hiddens, num_heads, ffn_num_hiddens, dropout) for _ in range(num_blks)
        )
        self.norm = nn.LayerNorm(num_hiddens)  # eq. (4)
        self.head = nn.Linear(num_hiddens, num_classes)
        self.need_weights = need_weights  # NeedWeightsMixin: sets every block

    @property
    def attention_weights(self) -> list[torch.Tensor | None]:
        """Each block's last weights ``(batch_size, num_heads, N + 1, N + 1)`` (None when fused)."""
        return [blk.attention_weights for blk in self.blks]

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """The encoded tokens after the final layer norm, class token first: ``(B, N + 1, d)``."""
        x = require_feature_map(x, self.in_channels, self)
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"x must be (batch_size, {self.in_channels}, {self.image_size}, "
                f"{self.image_size}), got {tuple(x.shape)}"
            )
        z = self.patch_embedding(x).flatten(2).transpose(1, 2)  # (batch_size, N, num_hiddens)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (batch_size, 1, num_hiddens)
        z = self.dropout(torch.cat((cls, z), dim=1) + self.pos_embedding)  # (batch_size, N + 1, d)
        for blk in self.blks:
            z = blk(z)  # (batch_size, N + 1, num_hiddens)
        return self.norm(z)  # (batch_size, N + 1, num_hiddens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.tokens(x)[:, 0])  # (batch_size, num_classes)
