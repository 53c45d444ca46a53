"""The channel family beyond SE and ECA: GCT, GSoP and FcaNet (chapter 09).

Papers, in the order chapter 09 teaches them:

- GCT: Zongxin Yang, Linchao Zhu, Yu Wu, Yi Yang, "Gated Channel Transformation for Visual
  Recognition", CVPR 2020, arXiv:1909.11519.
- GSoP: Zilin Gao, Jiangtao Xie, Qilong Wang, Peihua Li, "Global Second-order Pooling
  Convolutional Networks", CVPR 2019, arXiv:1811.12006.
- FcaNet: Zequn Qin, Pengyi Zhang, Fei Wu, Xi Li, "FcaNet: Frequency Channel Attention
  Networks", ICCV 2021, arXiv:2012.11879.

The vocabulary of :mod:`attention_utils.vision`: the first argument is ``channels`` (the C of a
``(batch_size, channels, height, width)`` input), then ``reduction`` r where the paper has one;
with ``need_weights=True`` each module keeps the weights of its last forward pass, detached, in
``attention_weights`` (the one switch: :class:`~attention_utils.core.NeedWeightsMixin`).

GCT, GSoP and FcaNet are registered in :data:`attention_utils.registry.ATTENTION_MODULES` (the
registry imports them). SK, which replaces a convolution instead of adding a module, is in
:mod:`attention_utils.selective_kernel`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import (
    require_bool,
    require_feature_map,
    require_int,
    require_positive,
    require_positive_int,
    require_reduction,
)
from .core import NeedWeightsMixin

__all__ = [
    "FcaLayer",
    "GCT",
    "GSoP",
    "dct_filters",
    "fca_frequencies",
]


class GCT(NeedWeightsMixin, nn.Module):
    """Gated channel transformation: an l2 embedding, a channel normalisation and a tanh gate.

    ``s_c = alpha_c ||x_c||_2`` (with ``eps`` inside the root), ``s_hat_c = sqrt(C) s_c / ||s||_2``
    (so the ``s_hat`` have mean square 1 over channels), and ``y = x (1 + tanh(gamma_c s_hat_c +
    beta_c))``. A positive ``gamma`` lets a channel whose norm is larger than the others' grow
    (competition), a negative one damps it (cooperation). ``alpha = 1, gamma = beta = 0`` at
    initialisation, so a fresh GCT is the identity. Parameters: ``3 C``.

    Args:
        channels: C.
        eps: the small constant in both square roots (1e-5).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)``; output the same; ``attention_weights`` (the gate
        ``1 + tanh(...)``, in (0, 2)) ``(batch_size, channels, 1, 1)``.

    Raises:
        TypeError: if ``eps`` is not a real number. ValueError: if ``eps <= 0``; bad input
            as :class:`attention_utils.SEBlock`.

    Source: Yang et al., "Gated Channel Transformation for Visual Recognition", CVPR 2020,
    arXiv:1909.11519, eqs. (1)-(4).
    """

    def __init__(self, channels: int, eps: float = 1e-5, *, need_weights: bool = False) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        require_positive("eps", eps)
        self.eps = eps
        self.alpha = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels)
        s = (
            self.alpha * (x.square().sum(dim=(2, 3), keepdim=True) + self.eps).sqrt()
        )  # (B, C, 1, 1)
        s_hat = s / (s.square().mean(dim=1, keepdim=True) + self.eps).sqrt()  # (B, C, 1, 1)
        gate = 1 + torch.tanh(self.gamma * s_hat + self.beta)  # (B, C, 1, 1)
        self.attention_weights = gate.detach() if self.need_weights else None
        return x * gate

    def extra_repr(self) -> str:
        return f"channels={self.channels}, eps={self.eps}"


def covariance(x: torch.Tensor) -> torch.Tensor:
    """Channel covariance of each image, ``(X - mean)(X - mean)^T / (H W)``: ``(B, C, C)``."""
    z = x.flatten(2)  # (B, C, H W)
    z = z - z.mean(dim=2, keepdim=True)
    return z @ z.transpose(1, 2) / z.shape[2]  # (B, C, C)


class GSoP(NeedWeightsMixin, nn.Module):
    """Global second-order pooling block: channel weights from the channel covariance matrix.

    ``z = ReLU(BN(conv1x1(ReLU(x))))`` reduces C to ``c' = hidden`` channels; ``S = cov(z)`` is
    ``c' x c'``; after a batch norm over its rows, a row-wise convolution (row ``i`` of ``S``
    mapped to 4 numbers by its own weights, a grouped convolution) gives ``4 c'`` numbers, and a
    1x1 convolution with a sigmoid one weight per channel:
    ``y = x * sigmoid(W rowconv(BN(S)))``. Second-order statistics (how channels vary
    *together*) replace SE's first-order mean. As in the authors' code there is no activation
    between the two convolutions, and the first stage's reduction may be strided (``stride=2``
    for C = 256 in GSoP-Net1) to make the covariance cheaper.

    Args:
        channels: C.
        hidden: c', the reduced dimension (128 in the paper).
        stride: stride of the 1x1 reduction (1 or 2).
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)`` with at least 2 positions after the stride;
        output the same; ``attention_weights`` ``(batch_size, channels, 1, 1)``.

    Raises:
        ValueError: if ``hidden`` or ``stride < 1``; a map with a single position after the
            stride (its covariance is 0: every input would get the same weights; this also
            keeps its batch norms away from a single value per channel); bad input as
            :class:`attention_utils.SEBlock`.

    Source: Gao et al., "Global Second-order Pooling Convolutional Networks", CVPR 2019,
    arXiv:1811.12006, Sec. 3 and Fig. 1(b) (GSoP-Net1), and the authors' code.
    """

    def __init__(
        self, channels: int, hidden: int = 128, stride: int = 1, *, need_weights: bool = False
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        self.hidden = require_positive_int("hidden", hidden)
        self.stride = require_positive_int("stride", stride)
        self.reduce = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, hidden, 1, stride=stride),
            nn.BatchNorm2d(hidden),
            nn.ReLU(),
        )
        self.row_bn = nn.BatchNorm2d(hidden)
        self.row_conv = nn.Conv2d(hidden, 4 * hidden, (hidden, 1), groups=hidden)
        self.expand = nn.Conv2d(4 * hidden, channels, 1)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        positions = -(-x.shape[2] // self.stride) * -(-x.shape[3] // self.stride)  # after stride
        if positions < 2:
            raise ValueError(
                f"GSoP needs at least 2 positions after its stride ({self.stride}), got x of "
                f"shape {tuple(x.shape)}: the covariance of one position is 0, so every input "
                "would get the same weights"
            )
        cov = covariance(self.reduce(x))  # (B, c', c')
        rows = self.row_bn(cov[:, :, :, None])  # (B, c', c', 1): channel i holds row i
        out = self.row_conv(rows)  # (B, 4 c', 1, 1)
        weights = torch.sigmoid(self.expand(out))  # (B, C, 1, 1)
        self.attention_weights = weights.detach() if self.need_weights else None
        return x * weights

    def extra_repr(self) -> str:
        return f"channels={self.channels}, hidden={self.hidden}, stride={self.stride}"


# FcaNet's 'top' selection: the 32 frequencies (u, v) on a 7x7 grid that scored best one by one
# on ImageNet (the authors' code, get_freq_indices), best first.
_TOP_U = (
    0,
    0,
    6,
    0,
    0,
    1,
    1,
    4,
    5,
    1,
    3,
    0,
    0,
    0,
    3,
    2,
    4,
    6,
    3,
    5,
    5,
    2,
    6,
    5,
    5,
    3,
    3,
    4,
    2,
    2,
    6,
    1,
)
_TOP_V = (
    0,
    1,
    0,
    5,
    2,
    0,
    2,
    0,
    0,
    6,
    0,
    4,
    6,
    3,
    5,
    2,
    6,
    3,
    3,
    3,
    5,
    1,
    1,
    2,
    4,
    2,
    1,
    1,
    3,
    0,
    5,
    3,
)


def fca_frequencies(num_freq: int = 16, dct_size: int = 7) -> list[tuple[int, int]]:
    """FcaNet's ``top-k`` frequency selection, scaled from the 7x7 grid to ``dct_size``.

    Raises:
        TypeError: if ``num_freq`` or ``dct_size`` is not an int.
        ValueError: if ``num_freq`` is not in 1, 2, 4, 8, 16, 32 or ``dct_size < 7``.
    """
    if require_int("num_freq", num_freq) not in (1, 2, 4, 8, 16, 32):
        raise ValueError(f"num_freq must be one of 1, 2, 4, 8, 16, 32, got {num_freq!r}")
    require_int("dct_size", dct_size, minimum=7)
    step = dct_size // 7
    return [(u * step, v * step) for u, v in zip(_TOP_U[:num_freq], _TOP_V[:num_freq])]


def dct_filters(size: int, frequencies: list[tuple[int, int]]) -> torch.Tensor:
    """Orthonormal 2-D DCT-II basis images ``B_{u,v}(i, j)``, ``(len(frequencies), size, size)``.

    ``B_{u,v}(i, j) = c(u) c(v) cos(pi u (i + 1/2) / H) cos(pi v (j + 1/2) / W)`` with
    ``c(0) = 1 / sqrt(H)`` and ``c(u) = sqrt(2 / H)`` otherwise; ``B_{0,0}`` is constant,
    ``1 / sqrt(H W)``, so ``sum x B_{0,0} = sqrt(H W) * mean(x)``.

    Raises:
        TypeError: if ``size`` is not an int or a frequency not a pair of ints.
        ValueError: if ``size < 1``, ``frequencies`` is empty or a frequency lies outside
            ``0 .. size - 1`` (the block has no such frequency; cos would alias it onto another).
    """
    require_positive_int("size", size)
    if not frequencies:
        raise ValueError("frequencies must be a non-empty list of (u, v) pairs")
    for pair in frequencies:
        if (
            not isinstance(pair, (tuple, list))
            or len(pair) != 2
            or not all(isinstance(f, int) and not isinstance(f, bool) for f in pair)
        ):
            raise TypeError(f"frequencies must be (u, v) pairs of ints, got {pair!r}")
        if not all(0 <= f < size for f in pair):
            raise ValueError(
                f"frequencies must lie in 0..{size - 1} (a {size} x {size} block), got {pair!r}"
            )
    pos = torch.arange(size, dtype=torch.float64) + 0.5

    def basis(freq: int) -> torch.Tensor:
        scale = math.sqrt(1 / size) if freq == 0 else math.sqrt(2 / size)
        return scale * torch.cos(math.pi * freq * pos / size)  # (size,)

    return torch.stack([basis(u)[:, None] * basis(v)[None, :] for u, v in frequencies]).float()


class FcaLayer(NeedWeightsMixin, nn.Module):
    """Multi-spectral channel attention: SE with the squeeze replaced by DCT frequency components.

    The channels are split into ``k = len(frequencies)`` equal groups; group ``g`` is squeezed by
    its own 2-D DCT basis image, ``z_c = sum_{i,j} x_c(i, j) B_{u_g, v_g}(i, j)`` (after average
    pooling to ``dct_size x dct_size`` if needed). The lowest frequency ``(0, 0)`` is global
    average pooling times ``sqrt(H W)``: SE is the special case with one frequency. Excitation as
    SE without biases: ``w = sigmoid(W2 ReLU(W1 z))``, ``y = x * w``. Parameters: ``2 C^2 / r``.

    Args:
        channels: C, a multiple of the number of frequencies.
        reduction: r (16).
        dct_size: side of the DCT basis (7, 14, 28 or 56 in FcaNet-50, the stage's map size).
        num_freq: how many of the paper's ``top`` frequencies (16); ignored if ``frequencies``.
        frequencies: explicit list of ``(u, v)``, e.g. ``[(0, 0)]`` for SE's squeeze.
        need_weights: keyword only, False by default: keep the last weights, detached, in
            ``attention_weights`` (else None); see :class:`~attention_utils.core.NeedWeightsMixin`.

    Shape:
        input ``(batch_size, channels, H, W)``; output the same; ``attention_weights``
        ``(batch_size, channels, 1, 1)``.

    Raises:
        ValueError: if ``channels`` is not a multiple of the number of frequencies, a frequency
            is outside ``0 .. dct_size - 1``; as :func:`fca_frequencies`; bad input as SE.

    Source: Qin et al., "FcaNet: Frequency Channel Attention Networks", ICCV 2021,
    arXiv:2012.11879, eqs. (6)-(10) and the authors' code (top-16 selection).
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        dct_size: int = 7,
        num_freq: int = 16,
        frequencies: list[tuple[int, int]] | None = None,
        *,
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.need_weights = require_bool("need_weights", need_weights)
        self.channels = require_positive_int("channels", channels)
        self.reduction = require_reduction(channels, reduction)
        if frequencies is None:
            frequencies = fca_frequencies(num_freq, dct_size)
        require_positive_int("dct_size", dct_size)
        if not frequencies or any(not (0 <= f < dct_size) for uv in frequencies for f in uv):
            raise ValueError(
                f"frequencies must be (u, v) pairs in 0..{dct_size - 1}, got {frequencies!r}"
            )
        if channels % len(frequencies):
            raise ValueError(
                f"channels ({channels}) must be a multiple of the number of "
                f"frequencies ({len(frequencies)})"
            )
        self.dct_size, self.frequencies = dct_size, list(frequencies)
        basis = dct_filters(dct_size, self.frequencies)  # (k, s, s)
        self.register_buffer("dct_weight", basis.repeat_interleave(channels // len(frequencies), 0))
        hidden = channels // reduction
        self.excitation = nn.Sequential(
            nn.Linear(channels, hidden, bias=False),
            nn.ReLU(),
            nn.Linear(hidden, channels, bias=False),
            nn.Sigmoid(),
        )
        self.attention_weights: torch.Tensor | None = None

    def squeeze(self, x: torch.Tensor) -> torch.Tensor:
        """The frequency descriptor ``z``: ``(batch_size, channels)``."""
        if x.shape[-2:] != (self.dct_size, self.dct_size):
            x = nn.functional.adaptive_avg_pool2d(x, self.dct_size)  # (B, C, s, s)
        return (x * self.dct_weight).sum(dim=(2, 3))  # (B, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = require_feature_map(x, self.channels, self)
        weights = self.excitation(self.squeeze(x))[:, :, None, None]  # (B, C, 1, 1)
        self.attention_weights = weights.detach() if self.need_weights else None
        return x * weights

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, reduction={self.reduction}, dct_size={self.dct_size}, "
            f"num_freq={len(self.frequencies)}"
        )
