"""End-to-end memory networks: attention read several times in a row (hops).

Source:
    S. Sukhbaatar, A. Szlam, J. Weston, R. Fergus, "End-to-end memory networks", NeurIPS 2015,
    arXiv:1503.08895 (MemN2N): sec. 2 (the model), sec. 2.2 (adjacent weight tying), sec. 4.1
    (position encoding, temporal encoding).

The story's sentences are the memory, the question is the query. Each sentence i becomes a key
``m_i`` (embedding A) and a value ``c_i`` (embedding C); the question becomes the query ``u``
(embedding B). One hop is one attention read through the core:

    p = softmax(u . m_i),    o = sum_i p_i c_i,    u' = u + o

and the next hop reads the memory again with ``u'``: a query built from the last read. After
``num_hops`` hops the answer is ``softmax(W u')`` over the vocabulary. With adjacent weight
tying one table ``E_k`` serves as the values of hop k and the keys of hop k + 1:
``A^1 = B = E_0``, ``C^k = A^{k+1} = E_k``, and ``W = E_K^T``.

A sentence's vector is a weighted bag of its words: ``m_i = sum_j l_j * A x_ij`` with the
position encoding ``l_kj = (1 - j / J) - (k / d)(1 - 2 j / J)`` (word j of J, feature k of d),
so "john picked up" differs from "up picked john". A temporal encoding ``T(age)`` is added, where
the age of sentence i is the number of sentences after it in the story, so that a hop can
prefer the latest of several facts.

Memory slots that hold no sentence (rows of ``<pad>`` past the end of a story) are masked and
get exactly zero weight in every hop.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import require_bool, require_int, require_positive_int
from .scoring import attention

__all__ = ["MemoryNetwork", "position_encoding"]


def position_encoding(lengths: torch.Tensor, max_len: int, embed_size: int) -> torch.Tensor:
    """MemN2N's position encoding ``l_kj = (1 - j/J) - (k/d)(1 - 2j/J)`` for each word slot.

    Args:
        lengths: integer tensor of any shape ``(...)``: the number J of words of each sentence.
        max_len: number of word slots; slots ``j > J`` get weight 0.
        embed_size: d.

    Returns:
        Float32 tensor ``(..., max_len, embed_size)``, entry ``[..., j - 1, k - 1] = l_kj``.

    Raises:
        TypeError: if ``lengths`` is not an integer tensor, or a size not an int.
        ValueError: if a size is below 1 or a length outside ``[0, max_len]``.

    Source: Sukhbaatar et al. 2015, arXiv:1503.08895, sec. 4.1.
    """
    if not isinstance(lengths, torch.Tensor) or lengths.is_floating_point() or (
        lengths.dtype == torch.bool
    ):
        raise TypeError("lengths must be an integer torch.Tensor")
    require_positive_int("max_len", max_len)
    require_positive_int("embed_size", embed_size)
    if lengths.numel() and (lengths.min() < 0 or lengths.max() > max_len):
        raise ValueError(f"lengths must lie in [0, max_len] = [0, {max_len}]")
    j = torch.arange(1, max_len + 1, device=lengths.device, dtype=torch.float32)  # (max_len,)
    k = torch.arange(1, embed_size + 1, device=lengths.device, dtype=torch.float32)  # (d,)
    J = lengths.float().clamp(min=1)[..., None, None]  # (..., 1, 1)
    frac = j[:, None] / J  # (..., max_len, 1)
    weights = (1 - frac) - (k / embed_size) * (1 - 2 * frac)  # (..., max_len, embed_size)
    inside = j[:, None] <= lengths[..., None, None]  # (..., max_len, 1)
    return weights * inside


class MemoryNetwork(nn.Module):
    """An end-to-end memory network (MemN2N) with adjacent weight tying.

    Args:
        vocab_size: number of token ids; ids lie in ``[0, vocab_size)``.
        embed_size: d, the size of every embedding.
        num_hops: K, the number of reads of the memory.
        memory_size: the most sentences a story may hold (the temporal encoding's table size).
        pad: the padding id (its embedding is 0 and never trained).
        position_encoding: weigh words by :func:`position_encoding` (else a plain bag of words).
        temporal_encoding: add a learned vector for each sentence's age.

    Attributes:
        embeddings: the K + 1 tables ``E_0 .. E_K`` (``nn.Embedding``), tied as described above.
        temporal: the K + 1 temporal tables, ``(memory_size, embed_size)`` each, tied the same way.
        need_weights: keep each hop's attention (default False); settable.
        attention_weights: None, or a list of K tensors ``(batch_size, memory_size)``, detached:
            hop k's weight on each memory slot; each row sums to 1, padded slots get exactly 0.

    Shapes:
        forward(stories, questions): stories ``(batch_size, num_slots, sentence_len)`` and
        questions ``(batch_size, question_len)``, int64 token ids, ``num_slots <= memory_size``;
        returns answer logits ``(batch_size, vocab_size)``; the pad id's logit is the dtype's
        minimum (it is never an answer, and the pad row of ``E_K`` is never trained).

    Raises:
        TypeError: if a size is not an int, a flag not a bool, or the token tensors are not
            integer tensors.
        ValueError: for sizes below 1, ``pad`` outside the vocabulary, shapes that do not fit,
            token ids outside ``[0, vocab_size)``, more slots than ``memory_size``, a story with
            no sentence or a question with no word.

    Source: Sukhbaatar et al., "End-to-end memory networks", NeurIPS 2015, arXiv:1503.08895.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        num_hops: int,
        memory_size: int,
        pad: int = 0,
        position_encoding: bool = True,
        temporal_encoding: bool = True,
    ) -> None:
        super().__init__()
        self.vocab_size = require_positive_int("vocab_size", vocab_size)
        self.embed_size = require_positive_int("embed_size", embed_size)
        self.num_hops = require_positive_int("num_hops", num_hops)
        self.memory_size = require_positive_int("memory_size", memory_size)
        self.pad = require_int("pad", pad, minimum=0)
        if pad >= vocab_size:
            raise ValueError(f"pad must be a token id in [0, vocab_size={vocab_size}), got {pad}")
        self.position_encoding = require_bool("position_encoding", position_encoding)
        self.temporal_encoding = require_bool("temporal_encoding", temporal_encoding)
        self.embeddings = nn.ModuleList(
            nn.Embedding(vocab_size, embed_size, padding_idx=pad) for _ in range(num_hops + 1)
        )
        self.temporal = nn.ParameterList(
            nn.Parameter(torch.empty(memory_size, embed_size)) for _ in range(num_hops + 1)
        )
        for table in [*(e.weight for e in self.embeddings), *self.temporal]:
            nn.init.normal_(table, std=0.1)  # the paper's N(0, 0.1)
        for e in self.embeddings:
            with torch.no_grad():
                e.weight[pad] = 0
        self.need_weights = False
        self.attention_weights: list[torch.Tensor] | None = None

    def _check(self, name: str, tokens: object, dim: int, shape: str) -> torch.Tensor:
        if not isinstance(tokens, torch.Tensor) or tokens.is_floating_point() or (
            tokens.dtype in (torch.bool, torch.complex64, torch.complex128)
        ):
            got = tokens.dtype if isinstance(tokens, torch.Tensor) else type(tokens).__name__
            raise TypeError(f"{name} must be an integer torch.Tensor of token ids, got {got}")
        if tokens.dim() != dim:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(tokens.shape)}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(
                f"{name} holds token ids from {int(tokens.min())} to {int(tokens.max())}, "
                f"outside the vocabulary [0, vocab_size={self.vocab_size})"
            )
        return tokens

    def _word_weights(self, tokens: torch.Tensor) -> torch.Tensor | None:
        if not self.position_encoding:
            return None
        lengths = (tokens != self.pad).sum(-1)  # (...,)
        return position_encoding(lengths, tokens.shape[-1], self.embed_size)

    def encode(
        self, tokens: torch.Tensor, table: int, word_weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Sentences ``(..., sentence_len)`` -> vectors ``(..., embed_size)`` with table E_table.

        ``word_weights``: the position encoding of ``tokens`` if already computed.
        """
        words = self.embeddings[table](tokens)  # (..., sentence_len, embed_size)
        if self.position_encoding:
            if word_weights is None:
                word_weights = self._word_weights(tokens)
            words = words * word_weights.to(words.dtype)
        return words.sum(-2)  # (..., embed_size)

    def forward(self, stories: torch.Tensor, questions: torch.Tensor) -> torch.Tensor:
        self._check("stories", stories, 3, "(batch_size, num_slots, sentence_len)")
        self._check("questions", questions, 2, "(batch_size, question_len)")
        require_bool("need_weights", self.need_weights)
        if questions.shape[0] != stories.shape[0]:
            raise ValueError(
                f"stories and questions must have the same batch_size, got "
                f"{tuple(stories.shape)} and {tuple(questions.shape)}"
            )
        if stories.shape[1] > self.memory_size:
            raise ValueError(
                f"stories have {stories.shape[1]} slots but memory_size is {self.memory_size}; "
                "keep the last memory_size sentences"
            )
        filled = (stories != self.pad).any(-1)  # (batch_size, num_slots): slot holds a sentence
        if not bool(filled.any(-1).all()):
            raise ValueError(
                "stories must hold at least one sentence each (a row that is not all pad); "
                f"empty: story {int((~filled.any(-1)).nonzero()[0])}"
            )
        if not bool((questions != self.pad).any(-1).all()):
            raise ValueError("questions must hold at least one word each (not all pad)")
        # age of slot t: the number of sentences after it (0 for the latest)
        after = filled.flip(-1).long().cumsum(-1).flip(-1) - filled.long()  # (batch, num_slots)
        age = after.clamp(max=self.memory_size - 1)
        mask = filled[:, None, :]  # (batch_size, 1, num_slots)
        u = self.encode(questions, 0)[:, None, :]  # (batch_size, 1, embed_size)
        pe = self._word_weights(stories)  # (batch_size, num_slots, sentence_len, d) or None
        # memories[k]: the story in table E_k (+ T_k), the values of hop k and keys of hop k + 1
        memories = []
        for k in range(self.num_hops + 1):
            memory = self.encode(stories, k, pe)  # (batch_size, num_slots, embed_size)
            if self.temporal_encoding:
                memory = memory + self.temporal[k][age]
            memories.append(memory)
        weights = []
        for hop in range(self.num_hops):
            keys, values = memories[hop], memories[hop + 1]
            o, p = attention(
                u, keys, values, attn_mask=mask, scale=1.0, need_weights=self.need_weights
            )  # (batch_size, 1, embed_size), (batch_size, 1, num_slots) or None
            u = u + o
            if p is not None:
                weights.append(p[:, 0].detach())  # (batch_size, num_slots)
        self.attention_weights = weights if self.need_weights else None
        logits = u[:, 0] @ self.embeddings[-1].weight.T  # (batch_size, vocab_size)
        return logits.masked_fill(self._pad_column(logits), torch.finfo(logits.dtype).min)

    def _pad_column(self, logits: torch.Tensor) -> torch.Tensor:
        column = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
        column[self.pad] = True
        return column  # (vocab_size,): the pad id is never an answer
