"""The Transformer decoder: blocks, the stack, causality, caches, weights and errors."""

import inspect

import pytest
import torch

import attention_utils as au
from attention_utils import Transformer, TransformerDecoder, TransformerDecoderBlock

SRC_V, TGT_V = 11, 13


def _model(norm_first=False):
    torch.manual_seed(0)
    return Transformer(SRC_V, TGT_V, 16, 32, 4, 2, 0.0, norm_first=norm_first).eval()


def _batch(seed=1, batch_size=3, src_len=7, tgt_len=5):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, SRC_V, (batch_size, src_len), generator=g)
    tgt = torch.randint(0, TGT_V, (batch_size, tgt_len), generator=g)
    lens = torch.tensor([src_len, 3, 1, src_len - 2, 4][:batch_size])
    return src, tgt, lens


def test_attention_weights_shapes():
    model = _model()
    model.need_weights = True
    src, tgt, lens = _batch()
    model(src, tgt, lens)
    dec = model.decoder
    assert [w.shape for w in dec.self_attention_weights] == [(3, 4, 5, 5)] * 2
    assert [w.shape for w in dec.cross_attention_weights] == [(3, 4, 5, 7)] * 2
    cross = dec.cross_attention_weights[0]
    assert cross[2, :, :, 1:].abs().max() == 0  # example 2 has one valid source token
    assert torch.triu(dec.self_attention_weights[1], diagonal=1).abs().max() == 0


def test_block_and_decoder_shapes():
    torch.manual_seed(0)
    blk = TransformerDecoderBlock(16, 32, 4, 0.0)
    X, E = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    assert blk(X, E, torch.tensor([7, 2])).shape == (2, 5, 16)
    dec = TransformerDecoder(TGT_V, 16, 32, 4, 2, 0.0)
    assert dec(torch.zeros(2, 5, dtype=torch.long), E).shape == (2, 5, TGT_V)




def test_encoder_and_decoder_flags_are_keyword_only():
    """need_weights and norm_first come in another order in the encoder's and the decoder's
    signatures; keyword-only, a positional call cannot swap them silently."""
    for cls in (au.TransformerEncoderBlock, au.TransformerEncoder, au.TransformerDecoderBlock,
                au.TransformerDecoder, au.Transformer):
        parameters = inspect.signature(cls).parameters
        for name in ("need_weights", "norm_first"):
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, (cls.__name__, name)


def test_block_can_run_without_the_causal_mask():
    torch.manual_seed(1)
    blk = TransformerDecoderBlock(16, 32, 4, 0.0, need_weights=True).eval()
    X, E = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    blk(X, E)
    assert torch.triu(blk.self_attention_weights, diagonal=1).abs().max() == 0
    blk(X, E, causal=False)
    future = torch.ones(5, 5, dtype=torch.bool).triu(1)
    assert (blk.self_attention_weights[..., future] > 0).all()
    with pytest.raises(TypeError, match="causal"):
        blk(X, E, causal="no")


def test_decoder_errors_name_the_argument():
    model = _model()
    src, tgt, lens = _batch()
    E = model.encoder(src, lens)
    with pytest.raises(ValueError, match=r"X's token ids must lie in \[0, vocab_size\)"):
        model.decoder(tgt - 1, E, lens)
    with pytest.raises(TypeError, match="caches"):
        model.decoder(tgt, E, lens, caches=[None, None])
    with pytest.raises(ValueError, match=r"valid_lens must lie in \[0, num_keys\]"):
        model.decoder(tgt, E, torch.tensor([1, 2, 99]))
    blk = model.decoder.blks[0]
    with pytest.raises(ValueError, match="enc_outputs"):
        blk(torch.randn(3, 5, 16), torch.randn(3, 7, 8))
    with pytest.raises(ValueError, match="batch_size"):
        blk(torch.randn(3, 5, 16), torch.randn(2, 7, 16))
    with pytest.raises(TypeError, match="cache"):
        blk(torch.randn(3, 5, 16), torch.randn(3, 7, 16), cache="x")
    with pytest.raises(TypeError, match="enc_outputs must have the dtype"):
        blk(torch.randn(3, 5, 16), torch.randn(3, 7, 16).double())


def test_need_weights_set_on_the_decoder_reaches_every_attention():
    dec = TransformerDecoder(TGT_V, 16, 32, 4, 2, 0.0)
    E = torch.randn(2, 7, 16)
    dec(torch.zeros(2, 5, dtype=torch.long), E)
    assert dec.self_attention_weights == [None, None] == dec.cross_attention_weights
    dec.need_weights = True
    assert all(b.attention1.need_weights and b.attention2.need_weights for b in dec.blks)
    dec(torch.zeros(2, 5, dtype=torch.long), E)
    assert [w.shape for w in dec.cross_attention_weights] == [(2, 4, 5, 7)] * 2
