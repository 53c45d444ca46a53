"""The encoder-decoder around the RNNs of chapter 06, with the decoder contract, and its loss.

- ``EncoderDecoder``: D2L's container (Zhang et al., *Dive into Deep Learning*, 2023,
  arXiv:2106.11342, section 10.6), split into ``encode`` and ``decode`` as the Annotated
  Transformer splits its model (Rush, 2018; Huang et al., 2022), so that
  :mod:`attention_utils.decoding` decodes it and the ``Transformer`` of chapter 07 alike.
- ``MaskedSoftmaxCELoss``: the cross-entropy over valid target tokens of D2L section 10.7.

The encoder and the decoders themselves are in :mod:`attention_utils.seq2seq`.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import check_tokens, require_int
from .core import NeedWeightsMixin
from .seq2seq import check_lengths

__all__ = ["EncoderDecoder", "MaskedSoftmaxCELoss"]


class EncoderDecoder(NeedWeightsMixin, nn.Module):
    """An encoder and a decoder, with the library's decoder contract for decoding.

    ``forward(enc_X, dec_X, enc_valid_lens)`` is D2L's
    ``decoder(dec_X, decoder.init_state(encoder(enc_X, enc_valid_lens), enc_valid_lens))``.
    For :func:`~attention_utils.decoding.greedy_decode` and
    :func:`~attention_utils.decoding.beam_search` it also splits into ``encode(src,
    src_valid_lens) -> state`` and ``decode(X, state) -> (logits, state)``, with
    ``reorder_state(state, index)`` and ``cross_attention_weights``, as the ``Transformer`` does.

    Args:
        encoder: e.g. :class:`Seq2SeqEncoder`.
        decoder: e.g. :class:`Seq2SeqDecoder` or :class:`Seq2SeqAttentionDecoder`, with
            ``init_state(enc_all_outputs, enc_valid_lens)``, ``forward(X, state)`` and
            ``reorder_state(state, index)``.

    Attributes:
        need_weights: the library's one switch (:class:`~attention_utils.core.NeedWeightsMixin`,
            False by default): setting it sets the decoder's, so ``cross_attention_weights`` is
            kept (True) or None (False).

    Raises:
        TypeError: if ``encoder`` or ``decoder`` is not an ``nn.Module``.

    Source: D2L section 10.6 (``EncoderDecoder``); the encode/decode split is the Annotated
    Transformer's (Rush, 2018; Huang et al., 2022).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        for name, value in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(value, nn.Module):
                raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
        self.encoder, self.decoder = encoder, decoder
        self.need_weights = bool(getattr(decoder, "need_weights", False))

    def _encode(self, src, src_valid_lens, src_name: str, lens_name: str) -> list:
        vocab_size = getattr(getattr(self.encoder, "embedding", None), "num_embeddings", None)
        src = check_tokens(src_name, src, vocab_size)
        if src_valid_lens is not None:
            check_lengths(lens_name, src_valid_lens, *src.shape)
            enc_all_outputs = self.encoder(src, src_valid_lens)
        else:
            enc_all_outputs = self.encoder(src)
        return self.decoder.init_state(enc_all_outputs, src_valid_lens)

    def encode(self, src: torch.Tensor, src_valid_lens: torch.Tensor | None = None) -> list:
        """The decoder's first state for the sources ``src``.

        Args:
            src: ``(batch_size, num_src_steps)`` source token ids.
            src_valid_lens: None or ``(batch_size,)`` lengths in ``0..num_src_steps``.

        Returns:
            the state for :meth:`decode` (the decoder's ``init_state``).

        Raises:
            TypeError, ValueError: for ids outside the source vocabulary or bad lengths (the
                message names ``src`` or ``src_valid_lens``).
        """
        return self._encode(src, src_valid_lens, "src", "src_valid_lens")

    def decode(self, X: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """``(logits, state)``: ``(batch_size, num_steps, vocab_size)`` for the tokens ``X``
        ``(batch_size, num_steps)``, and the state for the next call."""
        return self.decoder(X, state)

    def reorder_state(self, state: list, index: torch.Tensor) -> list:
        """Keep the batch rows ``index`` of ``state`` (beam search)."""
        return self.decoder.reorder_state(state, index)

    @property
    def cross_attention_weights(self) -> torch.Tensor | None:
        """The decoder's weights over source positions from the last call,
        ``(batch_size, num_steps, num_src_steps)``, or None (no attention, or ``need_weights``
        False)."""
        return getattr(self.decoder, "attention_weights", None)

    @property
    def tgt_vocab_size(self) -> int | None:
        """The decoder's vocabulary size, or None if the decoder has no ``embedding``."""
        return getattr(getattr(self.decoder, "embedding", None), "num_embeddings", None)

    def forward(
        self, enc_X: torch.Tensor, dec_X: torch.Tensor, enc_valid_lens: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits ``(batch_size, num_steps, vocab_size)`` for the decoder inputs ``dec_X``.

        Args:
            enc_X: ``(batch_size, num_src_steps)`` source tokens.
            dec_X: ``(batch_size, num_steps)`` decoder inputs (``<bos>`` and the target shifted
                right, :func:`~attention_utils.data.teacher_forcing.decoder_inputs`, for teacher
                forcing).
            enc_valid_lens: None or the ``(batch_size,)`` source lengths.

        Raises:
            TypeError, ValueError: for token ids outside the vocabularies, bad lengths, or
                ``enc_X`` and ``dec_X`` of different batch sizes (each named).
        """
        state = self._encode(enc_X, enc_valid_lens, "enc_X", "enc_valid_lens")
        dec_X = check_tokens("dec_X", dec_X, self.tgt_vocab_size)
        if dec_X.shape[0] != enc_X.shape[0]:
            raise ValueError(
                f"dec_X must have enc_X's batch_size {enc_X.shape[0]}, got {tuple(dec_X.shape)}"
            )
        return self.decoder(dec_X, state)[0]


class MaskedSoftmaxCELoss(nn.Module):
    """Cross-entropy over the valid target tokens only: padding contributes nothing.

    ``loss = sum_{b,t valid} -log p(y_{b,t}) / (number of valid tokens)``. Unlike D2L's class of
    the same name, which returns one loss per sequence, this returns the mean over valid tokens
    (``reduction="mean"``) or the per-token losses with 0 at padding (``"none"``). Logits at
    padded positions are never read, so a NaN there does not reach the loss or its gradient; a
    batch with no valid token has loss 0.

    Args:
        pad: the padding index; where no ``valid_len`` is given, tokens equal to it are masked.
        reduction: ``"mean"`` or ``"none"``.

    Raises:
        TypeError, ValueError: for a ``pad`` that is not an int >= 0 or another ``reduction``.

    Source: D2L section 10.7 (``MaskedSoftmaxCELoss``).
    """

    def __init__(self, pad: int = 0, reduction: str = "mean") -> None:
        super().__init__()
        self.pad = require_int("pad", pad, minimum=0)
        if not isinstance(reduction, str) or reduction not in ("mean", "none"):
            raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
        self.reduction = reduction

    def forward(
        self, pred: torch.Tensor, label: torch.Tensor, valid_len: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The loss.

        Args:
            pred: ``(batch_size, num_steps, vocab_size)`` logits.
            label: ``(batch_size, num_steps)`` target ids in ``[0, vocab_size)``.
            valid_len: None (mask ``label == pad``) or ``(batch_size,)`` lengths in
                ``0..num_steps``.

        Returns:
            A scalar (``"mean"``) or ``(batch_size, num_steps)`` (``"none"``).

        Raises:
            TypeError, ValueError: for tensors of the wrong kind or shape, or label ids outside
                ``[0, vocab_size)``.
        """
        if not isinstance(pred, torch.Tensor) or not pred.is_floating_point():
            raise TypeError("pred must be a floating-point tensor of logits")
        label = check_tokens("label", label)
        if pred.dim() != 3 or pred.shape[:2] != label.shape:
            raise ValueError(
                f"pred must have shape (batch_size, num_steps, vocab_size) = "
                f"{tuple(label.shape)} + (vocab_size,), got {tuple(pred.shape)}"
            )
        label = check_tokens("label", label, pred.shape[-1]).long()
        if valid_len is None:
            mask = label != self.pad  # (batch_size, num_steps)
        else:
            valid_len = check_lengths("valid_len", valid_len, *label.shape)
            mask = torch.arange(label.shape[1], device=label.device) < valid_len.unsqueeze(1)
        # zero the padded logits first: 0 * NaN would leak a NaN there into the sum and the grad
        pred = pred.masked_fill(~mask.unsqueeze(-1), 0.0)
        losses = nn.functional.cross_entropy(
            pred.transpose(1, 2), label, reduction="none"
        )  # (batch_size, num_steps)
        losses = losses.masked_fill(~mask, 0.0)
        if self.reduction == "none":
            return losses
        return losses.sum() / mask.sum().clamp(min=1)
