"""The PyTorch twin of the book's Transformer (chapter 07): the same model, ``torch.nn`` layers.

Sources:
    A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762.
    PyTorch's ``torch.nn.Transformer`` (``nn.TransformerEncoderLayer``,
    ``nn.TransformerDecoderLayer``, ``nn.MultiheadAttention``).

:meth:`Transformer.as_torch <attention_utils.transformer_model.Transformer.as_torch>` builds a
:class:`TorchTransformer` with copies of the weights; the tests prove the two agree, which checks
the book's model against PyTorch's layer by layer. Multi-head attention's own twin,
:func:`~attention_utils.multihead.as_torch_multihead`, is in ``multihead``.
"""

from __future__ import annotations

import torch
from torch import nn

from .multihead import MultiHeadAttention, as_torch_multihead
from .transformer_layers import PositionalEncoding, embed_tokens
from .transformer_model import Transformer

__all__ = ["TorchTransformer"]


def _copy_mha(torch_mha: nn.MultiheadAttention, mha: MultiHeadAttention) -> None:
    """Copy ``mha``'s weights; PyTorch's biases become 0 where ``mha`` has none."""
    ours = as_torch_multihead(mha).state_dict()
    torch_mha.load_state_dict(
        {name: ours.get(name, torch.zeros_like(t)) for name, t in torch_mha.state_dict().items()}
    )


class TorchTransformer(nn.Module):
    """:class:`Transformer`'s twin made of ``torch.nn.Transformer`` (built by ``as_torch``).

    Embeddings, positional encoding and output layer are copies of the original's; the layers
    are ``nn.TransformerEncoderLayer``/``nn.TransformerDecoderLayer`` with the same
    ``norm_first``. ``nn.Transformer`` puts a LayerNorm after both stacks; here that final norm
    exists only for pre-norm, exactly as in :class:`Transformer` (a post-norm stack already ends
    in one). The padding mask goes in as ``src_key_padding_mask`` and
    ``memory_key_padding_mask`` (True = ignore, the opposite of the library's bool masks), the
    causal mask as ``tgt_mask`` with ``tgt_is_causal=True``.

    Args:
        model: the :class:`Transformer` to copy.

    Raises:
        TypeError: if ``model`` is not a :class:`Transformer`.
    """

    def __init__(self, model: Transformer) -> None:
        super().__init__()
        if not isinstance(model, Transformer):
            raise TypeError(f"model must be a Transformer, got {type(model).__name__}")
        enc, dec = model.encoder, model.decoder
        blk = enc.blks[0]
        d, h = enc.num_hiddens, blk.attention.num_heads
        ffn, p = blk.ffn.dense1.out_features, blk.addnorm1.dropout.p
        weight = dec.dense.weight
        kw = dict(
            batch_first=True, norm_first=model.norm_first, device=weight.device, dtype=weight.dtype
        )
        encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, h, ffn, p, **kw),
            len(enc.blks),
            norm=None
            if enc.norm is None
            else nn.LayerNorm(d, device=weight.device, dtype=weight.dtype),
            enable_nested_tensor=False,
        )
        decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(d, h, ffn, p, **kw),
            len(dec.blks),
            norm=None
            if dec.norm is None
            else nn.LayerNorm(d, device=weight.device, dtype=weight.dtype),
        )
        self.num_hiddens = d
        self.transformer = nn.Transformer(
            d,
            h,
            dim_feedforward=ffn,
            dropout=p,
            custom_encoder=encoder,
            custom_decoder=decoder,
            **kw,
        )
        self.src_embedding = nn.Embedding.from_pretrained(
            enc.embedding.weight.detach().clone(), freeze=False
        )
        self.tgt_embedding = nn.Embedding.from_pretrained(
            dec.embedding.weight.detach().clone(), freeze=False
        )
        self.pos_encoding = PositionalEncoding(d, p, enc.pos_encoding.P.shape[1]).to(
            weight.device, weight.dtype
        )
        self.dense = nn.Linear(d, dec.dense.out_features, device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            self.dense.load_state_dict(dec.dense.state_dict())
            for ours, theirs in zip(enc.blks, encoder.layers):
                _copy_mha(theirs.self_attn, ours.attention)
                theirs.linear1.load_state_dict(ours.ffn.dense1.state_dict())
                theirs.linear2.load_state_dict(ours.ffn.dense2.state_dict())
                theirs.norm1.load_state_dict(ours.addnorm1.ln.state_dict())
                theirs.norm2.load_state_dict(ours.addnorm2.ln.state_dict())
            for ours, theirs in zip(dec.blks, decoder.layers):
                _copy_mha(theirs.self_attn, ours.attention1)
                _copy_mha(theirs.multihead_attn, ours.attention2)
                theirs.linear1.load_state_dict(ours.ffn.dense1.state_dict())
                theirs.linear2.load_state_dict(ours.ffn.dense2.state_dict())
                theirs.norm1.load_state_dict(ours.addnorm1.ln.state_dict())
                theirs.norm2.load_state_dict(ours.addnorm2.ln.state_dict())
                theirs.norm3.load_state_dict(ours.addnorm3.ln.state_dict())
            if enc.norm is not None:
                encoder.norm.load_state_dict(enc.norm.state_dict())
                decoder.norm.load_state_dict(dec.norm.state_dict())
        self.train(model.training)

    def forward(
        self, src: torch.Tensor, tgt: torch.Tensor, src_valid_lens: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Same arguments and result as :meth:`Transformer.forward`."""
        X = embed_tokens(self.src_embedding, self.pos_encoding, src, name="src")
        # (batch_size, num_src_steps, num_hiddens)
        Y = embed_tokens(self.tgt_embedding, self.pos_encoding, tgt, name="tgt")
        # (batch_size, num_tgt_steps, num_hiddens)
        padding = None
        if src_valid_lens is not None:
            positions = torch.arange(src.shape[1], device=src.device)  # (num_src_steps,)
            padding = (
                positions[None, :] >= src_valid_lens[:, None]
            )  # (batch_size, num_src_steps), True = ignore
        causal = nn.Transformer.generate_square_subsequent_mask(
            tgt.shape[1], device=src.device, dtype=X.dtype
        )
        out = self.transformer(
            X,
            Y,
            tgt_mask=causal,
            src_key_padding_mask=padding,
            memory_key_padding_mask=padding,
            tgt_is_causal=True,
        )  # (batch_size, num_tgt_steps, num_hiddens)
        return self.dense(out)  # (batch_size, num_tgt_steps, tgt_vocab_size)
