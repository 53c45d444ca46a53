"""Teacher forcing's inputs for any sequence-to-sequence task (chapters 06 and 07).

In training, the decoder is fed the reference translation shifted one step to the right behind
``<bos>``, so that at every step it sees the correct previous token: D2L section 10.7.3 (Zhang et
al., *Dive into Deep Learning*, 2023, arXiv:2106.11342).
"""

from __future__ import annotations

import torch

from ..checks import check_tokens, require_int

__all__ = ["decoder_inputs"]


def decoder_inputs(Y: torch.Tensor, bos: int) -> torch.Tensor:
    """The decoder's inputs for teacher forcing: ``<bos>``, then the target shifted right.

    ``decoder_inputs(Y, bos)[:, 0] = bos`` and ``decoder_inputs(Y, bos)[:, t] = Y[:, t - 1]``, so
    that at step ``t`` the decoder sees the reference's previous token and is trained to predict
    ``Y[:, t]``; the last target token is never an input. Same shape, dtype and device as ``Y``.

    Args:
        Y: ``(batch_size, num_steps)`` target token ids (empty batches and ``num_steps = 0``
            give empty results).
        bos: the target vocabulary's ``<bos>`` id, an int >= 0.

    Returns:
        ``(batch_size, num_steps)`` token ids.

    Raises:
        TypeError: if ``Y`` is not an integer tensor or ``bos`` not an int.
        ValueError: if ``Y`` is not 2-D or ``bos`` is negative.

    Source: D2L section 10.7.3 (Zhang et al., 2023, arXiv:2106.11342), teacher forcing.
    """
    check_tokens("Y", Y)
    require_int("bos", bos, minimum=0)
    start = torch.full((Y.shape[0], 1), bos, dtype=Y.dtype, device=Y.device)  # (batch_size, 1)
    return torch.cat([start, Y[:, :-1]], dim=1)[:, : Y.shape[1]]  # (batch_size, num_steps)
