"""Windows in images: the Swin Transformer's (shifted) window attention (chapter 12).

Source:
    Z. Liu et al., "Swin Transformer: hierarchical vision transformer using shifted windows",
    ICCV 2021, arXiv:2103.14030. Names and layout follow the authors' released code
    (github.com/microsoft/Swin-Transformer): token maps ``(batch_size, height, width, channels)``.

Global self-attention over an ``h x w`` map costs ``(h w)^2`` scores. Swin cuts the map into
non-overlapping ``M x M`` windows and attends inside each: ``h w M^2`` scores, linear in the
image. Alone, windows never exchange information; so every second block shifts the map by
``M // 2`` before cutting it. The shift is cyclic (``torch.roll``), which keeps the number of
windows fixed but puts tokens from opposite edges of the image in the same window; a mask keeps
such regions apart. Inside a window, a learned bias ``B[dy, dx]`` per head and relative offset
(``(2M - 1)^2`` of them) gives positions. Attention goes through the core
:func:`~attention_utils.scoring.attention`, with the bias and the mask as its float ``attn_mask``.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import require_int, require_positive, require_positive_int, require_tensor
from .scoring import attention

__all__ = [
    "PatchMerging",
    "SwinBlock",
    "WindowAttention",
    "relative_position_index",
    "shifted_window_mask",
    "swin_num_parameters",
    "window_partition",
    "window_reverse",
]


def _check_sizes(height: int, width: int, window_size: int) -> None:
    if height % window_size or width % window_size:
        raise ValueError(
            f"height and width ({height}, {width}) must be divisible by window_size = {window_size}"
        )


def _check_map(name: str, x: object, window_size: int) -> torch.Tensor:
    require_tensor(name, x)
    require_positive_int("window_size", window_size)
    if x.dim() != 4:
        raise ValueError(
            f"{name} must have shape (batch_size, height, width, channels), got {tuple(x.shape)}"
        )
    _check_sizes(x.shape[1], x.shape[2], window_size)
    return x


def _check_shift(window_size: int, shift_size: int) -> None:
    require_positive_int("window_size", window_size)
    require_int("shift_size", shift_size, minimum=0)
    if shift_size >= window_size:
        raise ValueError(
            f"shift_size must be smaller than window_size = {window_size}, got {shift_size}"
        )


def window_partition(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """Cut a token map into non-overlapping ``M x M`` windows, each a sequence of ``M^2`` tokens.

    Args:
        x: ``(batch_size, height, width, channels)``, height and width divisible by M.
        window_size: M.

    Returns:
        ``(batch_size * num_windows, M * M, channels)``, windows in row-major order per image,
        tokens row-major inside each window.

    Raises:
        TypeError: if ``x`` is not a floating tensor or ``window_size`` not an int.
        ValueError: if ``x`` is not 4-D, ``window_size < 1`` or it does not divide the sizes.

    Source: Liu et al. 2021, arXiv:2103.14030, sec. 3.2 (the released ``window_partition``).
    """
    _check_map("x", x, window_size)
    b, h, w, c = x.shape
    m = window_size
    x = x.reshape(b, h // m, m, w // m, m, c)  # (b, h / m, m, w / m, m, c)
    windows = x.permute(0, 1, 3, 2, 4, 5)  # (b, h / m, w / m, m, m, c)
    return windows.reshape(-1, m * m, c)  # (b * num_windows, m * m, c)


def window_reverse(
    windows: torch.Tensor, window_size: int, height: int, width: int
) -> torch.Tensor:
    """The inverse of :func:`window_partition`: put the windows back into a map.

    Args:
        windows: ``(batch_size * num_windows, M * M, channels)``.
        window_size: M.
        height, width: the size of the map, both divisible by M.

    Returns:
        ``(batch_size, height, width, channels)``.

    Raises:
        TypeError: if ``windows`` is not a floating tensor or a size is not an int.
        ValueError: if a size is not positive, not divisible by M, or the windows do not fit.
    """
    require_tensor("windows", windows)
    m = require_positive_int("window_size", window_size)
    require_positive_int("height", height)
    require_positive_int("width", width)
    _check_sizes(height, width, m)
    per_image = (height // m) * (width // m)
    if windows.dim() != 3 or windows.shape[1] != m * m or windows.shape[0] % per_image:
        raise ValueError(
            f"windows must have shape (batch_size * {per_image}, {m * m}, channels), "
            f"got {tuple(windows.shape)}"
        )
    c = windows.shape[-1]
    x = windows.reshape(-1, height // m, width // m, m, m, c)  # (b, h / m, w / m, m, m, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, height, width, c)  # (b, h, w, c)


def shifted_window_mask(
    height: int, width: int, window_size: int, shift_size: int, device: torch.device | None = None
) -> torch.Tensor:
    """Which token pairs of each shifted window come from the same region of the image.

    After rolling the map by ``-shift_size`` along both axes, the windows on the last row and
    column hold tokens from up to four regions that were not neighbours in the image. Label each
    token by its region (three bands per axis: ``[0, H - M)``, ``[H - M, H - s)``, ``[H - s, H)``
    before the roll), then ``mask[w, i, j] = label_i == label_j``.

    Args:
        height, width: the map's size, divisible by ``window_size``.
        window_size: M.
        shift_size: s, with ``0 <= s < M`` (0 gives an all-True mask).
        device: where to create it.

    Returns:
        A bool tensor ``(num_windows, M * M, M * M)``, True where the pair may attend.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if a size is not positive or divisible, or ``shift_size`` is not in
            ``[0, window_size)``.

    Source: Liu et al. 2021, arXiv:2103.14030, sec. 3.2, "efficient batch computation for
    shifted configuration", fig. 4 (the released code's ``attn_mask``).
    """
    _check_shift(window_size, shift_size)
    require_positive_int("height", height)
    require_positive_int("width", width)
    m, s = window_size, shift_size
    _check_sizes(height, width, m)
    labels = torch.zeros(1, height, width, 1, device=device)  # (1, h, w, 1)
    if s:
        bands = (slice(0, -m), slice(-m, -s), slice(-s, None))
        for k, (rows, cols) in enumerate((r, c) for r in bands for c in bands):
            labels[:, rows, cols, :] = k
    windows = window_partition(labels, m).squeeze(-1)  # (num_windows, m * m)
    return windows[:, :, None] == windows[:, None, :]  # (num_windows, m * m, m * m)


def relative_position_index(window_size: int) -> torch.Tensor:
    """``index[i, j]``: the row of the bias table for tokens i and j of an ``M x M`` window.

    With ``(y, x)`` the coordinates of a token, ``index = (y_i - y_j + M - 1) (2M - 1) +
    (x_i - x_j + M - 1)``, in ``[0, (2M - 1)^2)``: it depends on the offset only.

    Raises:
        TypeError: if ``window_size`` is not an int.
        ValueError: if it is not positive.

    Source: Liu et al. 2021, arXiv:2103.14030, sec. 3.2, "relative position bias", eq. (4).
    """
    m = require_positive_int("window_size", window_size)
    coords = torch.stack(torch.meshgrid(torch.arange(m), torch.arange(m), indexing="ij"))
    coords = coords.flatten(1)  # (2, m * m)
    rel = coords[:, :, None] - coords[:, None, :] + (m - 1)  # (2, m * m, m * m), in [0, 2m - 2]
    return rel[0] * (2 * m - 1) + rel[1]  # (m * m, m * m)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows, with a learned relative position bias.

    ``softmax(Q K^T / sqrt(d) + B + mask) V`` per window and head, where ``B[i, j]`` is the
    table entry of the offset between tokens i and j (``(2M - 1)^2 x num_heads`` numbers) and
    the mask hides pairs from different regions of a shifted map (weight exactly 0; the released
    code adds -100 instead).

    Args:
        dim: channels C.
        window_size: M.
        num_heads: number of heads, dividing C.
        qkv_bias: whether the query, key and value projections have biases (Swin: True).

    Attributes:
        need_weights: if True, ``forward`` keeps the weights in ``attention_weights``.
        attention_weights: None, or ``(batch_size * num_windows, num_heads, M^2, M^2)``.

    Raises:
        TypeError: if a size is not an int.
        ValueError: if a size is not positive or ``num_heads`` does not divide ``dim``.

    Source: Liu et al. 2021, arXiv:2103.14030, sec. 3.2, eq. (4).
    """

    def __init__(self, dim: int, window_size: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        require_positive_int("dim", dim)
        require_positive_int("window_size", window_size)
        require_positive_int("num_heads", num_heads)
        if dim % num_heads:
            raise ValueError(f"num_heads ({num_heads}) must divide dim ({dim})")
        self.dim, self.window_size, self.num_heads = dim, window_size, num_heads
        self.table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))
        nn.init.trunc_normal_(self.table, std=0.02)
        self.register_buffer("index", relative_position_index(window_size), persistent=False)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.need_weights = False
        self.attention_weights: torch.Tensor | None = None

    def bias(self) -> torch.Tensor:
        """The relative position bias ``(num_heads, M^2, M^2)``."""
        return self.table[self.index].permute(2, 0, 1)  # (num_heads, m * m, m * m)

    def forward(self, windows: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attend inside each window.

        Args:
            windows: ``(batch_size * num_windows, M^2, C)``, as :func:`window_partition` gives.
            mask: None, or a bool ``(num_windows, M^2, M^2)`` from :func:`shifted_window_mask`.

        Returns:
            ``(batch_size * num_windows, M^2, C)``.

        Raises:
            TypeError / ValueError: for a non-float ``windows``, a non-bool ``mask``, or shapes
                that do not fit.
        """
        require_tensor("windows", windows)
        n = self.window_size**2
        if windows.dim() != 3 or windows.shape[1:] != (n, self.dim):
            raise ValueError(
                f"windows must have shape (batch_size * num_windows, {n}, {self.dim}), "
                f"got {tuple(windows.shape)}"
            )
        bias = self.bias().to(windows.dtype)  # (num_heads, n, n)
        groups = 1
        if mask is not None:
            if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
                raise TypeError(f"mask must be a bool tensor or None, got {type(mask).__name__}")
            groups = mask.shape[0]
            if mask.shape[1:] != (n, n) or windows.shape[0] % groups:
                raise ValueError(
                    f"mask must have shape (num_windows, {n}, {n}) with num_windows dividing "
                    f"{windows.shape[0]}, got {tuple(mask.shape)}"
                )
            bias = bias.masked_fill(~mask[:, None], torch.finfo(bias.dtype).min)
            # (num_windows, num_heads, n, n)
        qkv = self.qkv(windows).unflatten(-1, (3, self.num_heads, -1))  # (bw, n, 3, heads, hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unflatten(1, (-1, groups))
        # each (batch_size, num_windows or 1, num_heads, n, head_dim)
        out, weights = attention(q, k, v, attn_mask=bias, need_weights=self.need_weights)
        self.attention_weights = None if weights is None else weights.detach().flatten(0, 1)
        out = out.flatten(0, 1).transpose(1, 2).flatten(2)  # (batch_size * num_windows, n, C)
        return self.proj(out)


class SwinBlock(nn.Module):
    """One Swin Transformer block: (shifted) window attention and an MLP, pre-norm residuals.

    ``x = x + unshift(W-MSA(shift(LN(x))))`` then ``x = x + MLP(LN(x))``, the MLP
    ``Linear(C, rC) -> GELU -> Linear(rC, C)``. Blocks alternate ``shift_size = 0`` and
    ``M // 2``.

    Args:
        dim: channels C.
        num_heads: number of heads, dividing C.
        window_size: M (Swin: 7).
        shift_size: s in ``[0, M)``.
        mlp_ratio: r, the MLP's width over C (Swin: 4).

    Raises:
        TypeError / ValueError: for a wrong type, ``window_size < 1``, ``shift_size`` not in
            ``[0, window_size)``, or a size that is not positive.

    Source: Liu et al. 2021, arXiv:2103.14030, sec. 3.1-3.2, eq. (3), fig. 3b.
    """

    def __init__(
        self, dim: int, num_heads: int, window_size: int = 7, shift_size: int = 0,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        _check_shift(window_size, shift_size)
        hidden = int(dim * require_positive("mlp_ratio", mlp_ratio))
        self.window_size, self.shift_size = window_size, shift_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window_size, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch_size, height, width, C)``, sizes divisible by M; returns that shape.

        Raises:
            TypeError / ValueError: for a non-float ``x`` or a shape that does not fit (4-D,
                C channels, sizes divisible by M).
        """
        _check_map("x", x, self.window_size)
        b, h, w, c = x.shape
        m, s = self.window_size, self.shift_size
        if c != self.attn.dim:
            raise ValueError(f"x must have {self.attn.dim} channels (last axis), got {c}")
        y = self.norm1(x)
        mask = None
        if s:
            y = torch.roll(y, shifts=(-s, -s), dims=(1, 2))  # (b, h, w, c)
            mask = shifted_window_mask(h, w, m, s, device=x.device)  # (num_windows, m^2, m^2)
        y = self.attn(window_partition(y, m), mask)  # (b * num_windows, m * m, c)
        y = window_reverse(y, m, h, w)  # (b, h, w, c)
        x = x + (torch.roll(y, shifts=(s, s), dims=(1, 2)) if s else y)
        return x + self.mlp(self.norm2(x))  # (b, h, w, c)


class PatchMerging(nn.Module):
    """Swin's downsampling between stages: concatenate 2 x 2 neighbours, norm, project 4C -> 2C.

    Args:
        dim: channels C of the input.

    Raises:
        TypeError / ValueError: if ``dim`` is not a positive int.

    Source: Liu et al. 2021, arXiv:2103.14030, sec. 3.1, "patch merging layer".
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        require_positive_int("dim", dim)
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch_size, H, W, C)`` with even H and W to ``(batch_size, H / 2, W / 2, 2C)``.

        Raises:
            TypeError / ValueError: for a non-float ``x``, or not 4-D, even-sized, C channels.
        """
        _check_map("x", x, 2)
        if x.shape[-1] * 4 != self.norm.normalized_shape[0]:
            raise ValueError(f"x must have {self.norm.normalized_shape[0] // 4} channels")
        parts = (x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2])
        return self.reduction(self.norm(torch.cat(parts, dim=-1)))  # (b, h / 2, w / 2, 2c)


def swin_num_parameters(
    embed_dim: int = 96, depths: tuple[int, ...] = (2, 2, 6, 2),
    num_heads: tuple[int, ...] = (3, 6, 12, 24), window_size: int = 7, num_classes: int = 1000,
    patch_size: int = 4, in_channels: int = 3, mlp_ratio: int = 4,
) -> int:
    """The parameter count of a Swin Transformer, in closed form (defaults: Swin-T).

    Patch embedding ``(c p^2 + 1) C + 2C`` (a convolution and a layer norm); per block at width
    C with h heads: ``4C`` (two norms) ``+ 3C^2 + 3C`` (q, k, v) ``+ C^2 + C`` (output)
    ``+ (2M - 1)^2 h`` (the bias table) ``+ 2 r C^2 + r C + C`` (MLP); a patch merging between
    stages ``8C + 8C^2``; a final norm and the classifier ``2C_L + (C_L + 1) num_classes``.

    Raises:
        TypeError: if an argument is not an int (or ``depths``/``num_heads`` not sequences).
        ValueError: if an argument is not positive or the two sequences differ in length.

    Source: Liu et al. 2021, arXiv:2103.14030, sec. 3.3 and table 1 (Swin-T 28M, Swin-S 50M,
    Swin-B 88M parameters at 224 x 224 with M = 7).
    """
    sizes = dict(embed_dim=embed_dim, window_size=window_size, num_classes=num_classes,
                 patch_size=patch_size, in_channels=in_channels, mlp_ratio=mlp_ratio)
    for name, value in sizes.items():
        require_positive_int(name, value)
    if not isinstance(depths, (tuple, list)) or not isinstance(num_heads, (tuple, list)):
        raise TypeError("depths and num_heads must be tuples of ints, one per stage")
    if len(depths) != len(num_heads) or not depths:
        raise ValueError(f"depths and num_heads need one entry per stage: {depths}, {num_heads}")
    for d, h in zip(depths, num_heads):
        require_positive_int("depths", d)
        require_positive_int("num_heads", h)
    c, r = embed_dim, mlp_ratio
    total = (in_channels * patch_size**2 + 1) * c + 2 * c
    for stage, (depth, heads) in enumerate(zip(depths, num_heads)):
        if stage:
            total += 8 * c + 8 * c * c  # patch merging from the previous width c
            c *= 2
        block = 4 * c + 4 * c * c + 4 * c + (2 * window_size - 1) ** 2 * heads
        block += 2 * r * c * c + r * c + c
        total += depth * block
    return total + 2 * c + (c + 1) * num_classes
