"""Tests for attention_utils.criss_cross: criss-cross attention, CCNet (chapter 08)."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close
from torch.utils.flop_counter import FlopCounterMode

import attention_utils as au


def _cross_gradient(module, i, j, size=(6, 7)):
    x = torch.randn(1, 8, *size, requires_grad=True)
    module(x)[0, :, i, j].sum().backward()
    return x.grad.abs().sum(1)[0]  # (H, W)


@pytest.mark.parametrize("dense", [False, True])
def test_criss_cross_one_pass_sees_row_and_column_only(dense):
    torch.manual_seed(6)
    cc = au.CrissCrossAttention(8, reduction=2, dense=dense)
    cc.gamma.data.fill_(1.0)
    for i, j in [(0, 0), (2, 3), (5, 6)]:
        g = _cross_gradient(cc, i, j)
        cross = torch.zeros_like(g, dtype=torch.bool)
        cross[i, :] = True
        cross[:, j] = True
        assert (g[~cross] == 0).all()
        assert (g[cross] > 0).all()


@pytest.mark.parametrize("dense", [False, True])
def test_criss_cross_two_passes_see_everything(dense):
    torch.manual_seed(7)
    cc = au.CrissCrossAttention(8, reduction=2, recurrence=2, dense=dense)
    cc.gamma.data.fill_(1.0)
    assert (_cross_gradient(cc, 2, 3) > 0).all()


@pytest.mark.parametrize("recurrence", [1, 2])
def test_criss_cross_dense_equals_sparse(recurrence):
    torch.manual_seed(11)
    sparse = au.CrissCrossAttention(8, reduction=2, recurrence=recurrence, need_weights=True)
    sparse.gamma.data.fill_(0.7)
    dense = au.CrissCrossAttention(
        8, reduction=2, recurrence=recurrence, need_weights=True, dense=True
    )
    dense.load_state_dict(sparse.state_dict())
    x = torch.randn(2, 8, 4, 5)
    assert_close(dense(x), sparse(x))
    assert_close(dense.attention_weights, sparse.attention_weights)


def test_criss_cross_weights_mask_the_centre_once():
    torch.manual_seed(8)
    cc = au.CrissCrossAttention(8, reduction=2, need_weights=True)
    cc(torch.randn(2, 8, 4, 5))
    w = cc.attention_weights
    assert w.shape == (2, 4, 5, 9)
    assert_close(w.sum(-1), torch.ones(2, 4, 5))
    for i in range(4):
        assert (w[:, i, :, i] == 0).all()  # u itself is counted in its row, not its column


def test_rcca_cost_matches_the_ccnet_paper():
    """16.5 GFLOPs (2 x MACs) at 97 x 97, C = 512, R = 2 (Huang et al. 2019)."""
    x = torch.empty(1, 512, 97, 97, device="meta")
    with FlopCounterMode(display=False) as counter:
        au.CrissCrossAttention(512, recurrence=2).to("meta")(x)
    assert round(counter.get_total_flops() / 1e9, 1) == 16.5
