"""Swin's windows: partition and reverse, the shifted-window mask, reach, parameter counts."""

import pytest
import torch
from torch import nn

import attention_utils as au

F64 = torch.float64


def test_partition_then_reverse_is_the_identity():
    x = torch.randn(2, 8, 12, 3)
    windows = au.window_partition(x, 4)
    assert windows.shape == (2 * 6, 16, 3)
    torch.testing.assert_close(windows[1].reshape(4, 4, 3), x[0, :4, 4:8])  # second window
    torch.testing.assert_close(au.window_reverse(windows, 4, 8, 12), x, rtol=0, atol=0)


def test_relative_position_index_depends_on_the_offset_only():
    m = 3
    index = au.relative_position_index(m)
    coords = [(y, x) for y in range(m) for x in range(m)]
    assert index.shape == (9, 9) and index.min() == 0 and index.max() == (2 * m - 1) ** 2 - 1
    by_offset = {}
    for i, (yi, xi) in enumerate(coords):
        for j, (yj, xj) in enumerate(coords):
            by_offset.setdefault((yi - yj, xi - xj), set()).add(index[i, j].item())
    assert all(len(rows) == 1 for rows in by_offset.values())
    assert len({next(iter(r)) for r in by_offset.values()}) == len(by_offset)  # one row each


def _region_mask_by_brute_force(h, w, m, s):
    """Pairs in one shifted window that were neighbours in the image before the cyclic shift."""
    # After torch.roll(-s), the token at rolled (y, x) came from ((y + s) % h, (x + s) % w). Two
    # tokens of a window were neighbours exactly when both or neither crossed each edge.
    crossed = torch.zeros(1, h, w, 2)
    for y in range(h):
        for x in range(w):
            crossed[0, y, x] = torch.tensor([float(y + s >= h), float(x + s >= w)])
    windows = au.window_partition(crossed, m)  # (num_windows, m * m, 2)
    return (windows[:, :, None] == windows[:, None, :]).all(-1)


@pytest.mark.parametrize(("h", "w", "m", "s"), [(8, 8, 4, 2), (12, 8, 4, 1), (6, 6, 3, 1)])
def test_shifted_window_mask(h, w, m, s):
    mask = au.shifted_window_mask(h, w, m, s)
    assert mask.shape == ((h // m) * (w // m), m * m, m * m)
    assert torch.equal(mask, _region_mask_by_brute_force(h, w, m, s))
    assert mask[0].all()  # the first window never holds wrapped tokens
    assert not mask[-1].all()  # the last one holds four regions
    assert au.shifted_window_mask(h, w, m, 0).all()


def _reach(net, x, at):
    """The input pixels whose gradient from output pixel ``at`` is nonzero."""
    x = x.clone().requires_grad_(True)
    net(x)[0, at[0], at[1]].sum().backward()
    grad = x.grad[0].abs().sum(-1)  # (h, w)
    return {tuple(p) for p in (grad > 0).nonzero().tolist()}


def _block(shift, seed=0):
    torch.manual_seed(seed)
    return au.SwinBlock(8, 2, window_size=4, shift_size=shift).double()


def test_one_block_reaches_only_its_window():
    x = torch.randn(1, 8, 8, 8, dtype=F64)
    window = {(y, x_) for y in range(4, 8) for x_ in range(0, 4)}
    assert _reach(_block(0), x, (5, 2)) == window


def test_the_shifted_block_does_not_mix_wrapped_regions():
    x = torch.randn(1, 8, 8, 8, dtype=F64)
    # (0, 0) shares a rolled window with rows and columns 6 and 7 from the far edges; the mask
    # keeps them apart, so it sees only its own 2 x 2 corner.
    assert _reach(_block(2), x, (0, 0)) == {(y, x_) for y in (0, 1) for x_ in (0, 1)}
    # Inside the image, the shifted window straddles four windows of the unshifted grid.
    assert _reach(_block(2), x, (3, 3)) == {(y, x_) for y in range(2, 6) for x_ in range(2, 6)}


def test_two_blocks_reach_across_windows():
    x = torch.randn(1, 8, 8, 8, dtype=F64)
    two = nn.Sequential(_block(0), _block(2, seed=1))
    reach = _reach(two, x, (3, 3))
    assert reach == {(y, x_) for y in range(8) for x_ in range(8)}  # all four windows
    assert not _reach(nn.Sequential(_block(0), _block(0, seed=1)), x, (3, 3)) - {
        (y, x_) for y in range(4) for x_ in range(4)
    }  # without the shift, two blocks stay in one window


@pytest.mark.parametrize("shift", [0, 2])
def test_window_attention_weights_and_fused_path_agree(shift):
    torch.manual_seed(0)
    attn = au.WindowAttention(8, 4, 2).double()
    windows = torch.randn(2 * 4, 16, 8, dtype=F64)
    mask = au.shifted_window_mask(8, 8, 4, shift)
    fused = attn(windows, mask)
    attn.need_weights = True
    readable = attn(windows, mask)
    torch.testing.assert_close(fused, readable)
    weights = attn.attention_weights  # (8, 2, 16, 16)
    assert weights.shape == (8, 2, 16, 16)
    assert (weights.masked_select(~mask.repeat(2, 1, 1)[:, None]) == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(8, 2, 16, dtype=F64))


def _swin(embed_dim, depths, num_heads, window_size=7, num_classes=1000):
    """Swin built from this library's blocks, PyTorch's convolution, norms and linear layers."""
    layers = [nn.Conv2d(3, embed_dim, 4, stride=4), nn.LayerNorm(embed_dim)]
    c = embed_dim
    for stage, (depth, heads) in enumerate(zip(depths, num_heads)):
        if stage:
            layers.append(au.PatchMerging(c))
            c *= 2
        layers += [au.SwinBlock(c, heads, window_size, (i % 2) * (window_size // 2))
                   for i in range(depth)]
    layers += [nn.LayerNorm(c), nn.Linear(c, num_classes)]
    return nn.ModuleList(layers)


def test_parameter_count_in_closed_form_equals_the_modules():
    net = _swin(16, (2, 2), (2, 4), window_size=3, num_classes=10)
    count = sum(p.numel() for p in net.parameters())
    assert count == au.swin_num_parameters(16, (2, 2), (2, 4), window_size=3, num_classes=10)


def test_swin_t_has_the_papers_28m_parameters():
    count = sum(p.numel() for p in _swin(96, (2, 2, 6, 2), (3, 6, 12, 24)).parameters())
    assert count == au.swin_num_parameters() == 28_288_354
    assert round(count / 1e6) == 28  # Liu et al. 2021, table 1
    stage1 = sum(p.numel() for b in _swin(96, (2,), (3,))[2:4] for p in b.parameters())
    assert stage1 == 2 * (4 * 96 + 4 * 96**2 + 4 * 96 + 13**2 * 3 + 8 * 96**2 + 4 * 96 + 96)
    small = au.swin_num_parameters(depths=(2, 2, 18, 2))
    base = au.swin_num_parameters(128, (2, 2, 18, 2), (4, 8, 16, 32))
    assert (round(small / 1e6), round(base / 1e6)) == (50, 88)  # Swin-S and Swin-B, table 1


def test_a_patch_merging_halves_the_map_and_doubles_the_channels():
    x = torch.randn(2, 8, 6, 4)
    assert au.PatchMerging(4)(x).shape == (2, 4, 3, 8)
