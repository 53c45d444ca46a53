"""Every dataset the book uses: synthetic, made on the spot, deterministic given a seed.

The regression data of chapter 02 is the example that D2L uses for Nadaraya--Watson attention
pooling (Zhang et al., *Dive into Deep Learning*, 2023, sec. 11.2, arXiv:2106.11342), which the
book's source notes follow: y = 2 sin(x) + x^0.8 + eps with Gaussian noise. The images of
chapter 05 hide their class in one channel among noisy and cluttered ones, so that channel and
spatial attention have something to do. The sentences of chapter 04 let an adjective decide
what "it" refers to (Winograd schemas, Levesque et al., KR 2012). Nothing here downloads anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .checks import _require_positive, _require_positive_int

__all__ = [
    "AGENT_ADJECTIVES",
    "AGENTS",
    "channel_shapes_data",
    "ChannelShapesData",
    "coreference_data",
    "CoreferenceData",
    "kernel_regression_data",
    "make_sentence",
    "PLACE_ADJECTIVES",
    "PLACES",
    "regression_truth",
    "RegressionData",
    "VERBS",
]


def regression_truth(x: torch.Tensor) -> torch.Tensor:
    """The noise-free function of chapter 02, ``f(x) = 2 sin(x) + x**0.8``.

    Args:
        x: inputs of any shape, all >= 0 (``x**0.8`` is not real for negative x).

    Returns:
        A tensor of the same shape as ``x``.

    Raises:
        ValueError: if any input is negative.
    """
    if (x < 0).any():
        raise ValueError("regression_truth is defined for x >= 0 (x**0.8 is not real below 0)")
    return 2 * torch.sin(x) + x**0.8


@dataclass(frozen=True)
class RegressionData:
    """Training pairs and a noise-free test grid for kernel regression.

    Attributes:
        x_train: sorted training inputs, shape ``(n_train,)``.
        y_train: noisy targets ``f(x_train) + eps``, shape ``(n_train,)``.
        x_test: test inputs ``0, 0.1, ..., 4.9``, shape ``(n_test,)`` with ``n_test = 50``.
        y_truth: noise-free ``f(x_test)``, shape ``(n_test,)``.
        noise_std: the standard deviation of ``eps``.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_truth: torch.Tensor
    noise_std: float

    @property
    def n_train(self) -> int:
        return self.x_train.numel()

    @property
    def n_test(self) -> int:
        return self.x_test.numel()


def kernel_regression_data(
    n_train: int = 50, noise_std: float = 0.5, seed: int = 0
) -> RegressionData:
    """Make the synthetic dataset of chapter 02.

    ``n_train`` inputs are drawn uniformly from [0, 5) and sorted (sorting makes the heatmap of
    attention weights readable); targets are ``y = 2 sin(x) + x**0.8 + eps`` with
    ``eps ~ N(0, noise_std**2)``. Test inputs are ``0, 0.1, ..., 4.9`` with their noise-free truth.

    Args:
        n_train: number of training pairs, >= 1.
        noise_std: standard deviation of the noise, > 0 (0.5 in the source).
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`RegressionData`; the same arguments always give the same tensors (float32).

    Raises:
        ValueError: if ``n_train < 1`` or ``noise_std <= 0``.
        TypeError: if ``n_train`` or ``seed`` is not an integer.
    """
    _require_positive_int("n_train", n_train)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    noise_std = _require_positive("noise_std", noise_std)
    generator = torch.Generator().manual_seed(seed)
    x_train, _ = torch.sort(torch.rand(n_train, generator=generator) * 5)  # (n_train,)
    noise = torch.randn(n_train, generator=generator) * noise_std  # (n_train,)
    y_train = regression_truth(x_train) + noise  # (n_train,)
    x_test = torch.arange(50, dtype=torch.float32) / 10  # (n_test,) = 0.0, 0.1, ..., 4.9
    return RegressionData(x_train, y_train, x_test, regression_truth(x_test), noise_std)


# --- chapter 05: images whose class lives in one channel among many -----------------------------


@dataclass(frozen=True)
class ChannelShapesData:
    """Images for chapter 05: which of a few channels holds a small cross decides the class.

    Attributes:
        x_train: images, shape ``(n_train, channels, size, size)``.
        y_train: labels in ``0 .. num_classes - 1``, shape ``(n_train,)``.
        x_test: held-out images, shape ``(n_test, channels, size, size)``.
        y_test: held-out labels, shape ``(n_test,)``.
        positions: ``(row, col)`` of the centre of the class cross, shape ``(n_test, 2)``
            for the held-out images (for plotting where the signal is).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    positions: torch.Tensor


def _cross(size: int, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """A 3x3 plus sign centred at (rows[i], cols[i]) in each of ``len(rows)`` blank images."""
    grid = torch.arange(size)
    dr = (grid[None, :, None] - rows[:, None, None]).abs()  # (n, size, 1)
    dc = (grid[None, None, :] - cols[:, None, None]).abs()  # (n, 1, size)
    return (((dr == 0) & (dc <= 1)) | ((dc == 0) & (dr <= 1))).float()  # (n, size, size)


def channel_shapes_data(
    n_train: int = 1024,
    n_test: int = 512,
    num_classes: int = 4,
    channels: int = 8,
    size: int = 16,
    noise_std: float = 1.0,
    seed: int = 0,
) -> ChannelShapesData:
    """Make the cluttered-channels classification task of chapter 05 (no download).

    Every image has ``channels`` channels of Gaussian noise (std ``noise_std``). An image of
    class ``c`` has a 3x3 cross of amplitude 1 at a random position in channel ``c``; each of the
    ``channels - num_classes`` clutter channels holds a 2x2 square of amplitude 1 at a random
    position, so something bright is in several channels and only the channel of the cross
    tells the class: the task asks *what* to look at (which channels) and *where* (the small
    cross among noise, which global average pooling dilutes).

    Args:
        n_train, n_test: numbers of training and held-out images, >= 1.
        num_classes: number of classes, 2 <= num_classes <= channels.
        channels: number of channels.
        size: height and width, >= 4.
        noise_std: standard deviation of the background noise, > 0.
        seed: the seed of the torch generator; the same seed gives the same data.

    Returns:
        A :class:`ChannelShapesData`, images of shape ``(n, channels, size, size)``.

    Raises:
        ValueError: for sizes out of range or a non-positive ``noise_std``.
    """
    _require_positive("noise_std", noise_std)
    if not 2 <= num_classes <= channels:
        raise ValueError(f"need 2 <= num_classes <= channels, got {num_classes}, {channels}")
    if size < 4 or n_train < 1 or n_test < 1:
        raise ValueError(f"need size >= 4, n_train >= 1, n_test >= 1, got {size, n_train, n_test}")
    generator = torch.Generator().manual_seed(seed)
    n = n_train + n_test
    labels = torch.randint(num_classes, (n,), generator=generator)  # (n,)
    x = torch.randn(n, channels, size, size, generator=generator) * noise_std
    rows = torch.randint(1, size - 1, (n,), generator=generator)  # (n,)
    cols = torch.randint(1, size - 1, (n,), generator=generator)  # (n,)
    x[torch.arange(n), labels] += _cross(size, rows, cols)  # (n, size, size)
    for channel in range(num_classes, channels):
        r = torch.randint(0, size - 1, (n,), generator=generator)  # (n,)
        c = torch.randint(0, size - 1, (n,), generator=generator)  # (n,)
        dr = torch.arange(size)[None, :, None] - r[:, None, None]  # (n, size, 1)
        dc = torch.arange(size)[None, None, :] - c[:, None, None]  # (n, 1, size)
        square = ((dr >= 0) & (dr <= 1) & (dc >= 0) & (dc <= 1)).float()  # (n, size, size)
        x[:, channel] += square
    positions = torch.stack([rows, cols], dim=1)[n_train:]  # (n_test, 2)
    return ChannelShapesData(x[:n_train], labels[:n_train], x[n_train:], labels[n_train:], positions)


# --- chapter 04: sentences in which an adjective decides what "it" refers to ---------------
#
# The example is the one the Transformer made famous: in "The animal didn't cross the street
# because it was too tired", *it* is the animal; with "too wide" it is the street. Sentences of
# this kind are Winograd schemas (Levesque, Davis and Morgenstern, *The Winograd Schema
# Challenge*, KR 2012); the attention picture of "it" comes from Vaswani et al., *Attention Is All
# You Need*, NeurIPS 2017, arXiv:1706.03762, and the Google AI blog post that accompanied it.
#
# Every sentence here follows one template::
#
#     the AGENT didn't VERB the PLACE because it was too ADJECTIVE .
#
# An agent adjective (tired, hungry, ...) makes *it* the agent, a place adjective (wide, busy,
# ...) makes it the place. Some (noun, adjective) pairs in which the noun is the referent are held
# out: no training sentence contains both words of such a pair, and the test set is made of
# exactly those sentences, so a model must combine what it learnt about the noun and about the
# adjective separately. Everything is deterministic given the seed; nothing is downloaded.

AGENTS = ("animal", "dog", "boy", "girl", "cat", "horse", "child", "farmer")
PLACES = ("street", "river", "road", "bridge", "field", "square", "tunnel", "hall")
VERBS = ("cross", "enter", "reach", "use", "visit", "leave")
AGENT_ADJECTIVES = ("tired", "hungry", "scared", "sleepy", "weak", "lazy")
PLACE_ADJECTIVES = ("wide", "busy", "long", "crowded", "dark", "noisy")

#: Positions of the words in every sentence (the template has no optional words).
AGENT_POSITION, PLACE_POSITION, IT_POSITION, ADJECTIVE_POSITION = 1, 5, 7, 10
NUM_STEPS = 12


def make_sentence(agent: str, verb: str, place: str, adjective: str) -> list[str]:
    """The template ``the AGENT didn't VERB the PLACE because it was too ADJECTIVE .`` as words.

    Args:
        agent: one of :data:`AGENTS`.
        verb: one of :data:`VERBS`.
        place: one of :data:`PLACES`.
        adjective: one of :data:`AGENT_ADJECTIVES` or :data:`PLACE_ADJECTIVES`.

    Returns:
        The 12 words of the sentence, e.g. ``["the", "animal", "didn't", ..., "tired", "."]``.

    Raises:
        ValueError: if a word is not in its list (the message lists the allowed words).
    """
    for name, word, allowed in (
        ("agent", agent, AGENTS),
        ("verb", verb, VERBS),
        ("place", place, PLACES),
        ("adjective", adjective, AGENT_ADJECTIVES + PLACE_ADJECTIVES),
    ):
        if word not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {word!r}")
    return ["the", agent, "didn't", verb, "the", place, "because", "it", "was", "too", adjective, "."]


@dataclass(frozen=True)
class CoreferenceData:
    """Train and test sentences with the referent of "it".

    Attributes:
        vocab: the words; a sentence's token ``t`` is the word ``vocab[t]``.
        train_tokens: shape ``(n_train, num_steps)`` with ``num_steps = 12``, dtype long.
        train_referents: the token of the noun that "it" refers to, shape ``(n_train,)``.
        train_second: 1 where the referent is the second noun (the place), else 0, ``(n_train,)``.
        test_tokens, test_referents, test_second: the same for the held-out sentences.
        held_out: the held-out (noun, adjective) pairs; every test sentence contains one, no
            training sentence contains both words of any.
        it_position: position of "it" in every sentence (7).
        noun_positions: positions of the agent and the place, ``(1, 5)``.
        adjective_position: position of the adjective (10).
    """

    vocab: tuple[str, ...]
    train_tokens: torch.Tensor
    train_referents: torch.Tensor
    train_second: torch.Tensor
    test_tokens: torch.Tensor
    test_referents: torch.Tensor
    test_second: torch.Tensor
    held_out: tuple[tuple[str, str], ...]
    it_position: int = IT_POSITION
    noun_positions: tuple[int, int] = (AGENT_POSITION, PLACE_POSITION)
    adjective_position: int = ADJECTIVE_POSITION

    @property
    def num_steps(self) -> int:
        return NUM_STEPS

    def encode(self, words: list[str]) -> torch.Tensor:
        """Words -> tokens of shape ``(len(words),)``; raises ValueError for an unknown word."""
        index = {word: i for i, word in enumerate(self.vocab)}
        unknown = [w for w in words if w not in index]
        if unknown:
            raise ValueError(f"unknown words {unknown}; the vocabulary is {self.vocab}")
        return torch.tensor([index[w] for w in words], dtype=torch.long)

    def decode(self, tokens: torch.Tensor) -> list[str]:
        """Tokens of shape ``(num_steps,)`` -> words."""
        return [self.vocab[int(t)] for t in tokens]


def coreference_data(heldout_per_noun: int = 1, seed: int = 0) -> CoreferenceData:
    """Make every sentence of the template and split it into train and held-out test sets.

    For each noun, ``heldout_per_noun`` adjectives of its own kind (agent adjectives for agents,
    place adjectives for places) are drawn with a private generator; the pairs are chosen so that
    every adjective is held out with about as many nouns as every other. A sentence whose
    referent and adjective form a held-out pair goes to the test set, all others to training.
    Since the adjective decides the referent, no training sentence contains both words of a
    held-out pair.

    With the default lists: 8 agents x 6 verbs x 8 places x 12 adjectives = 4608 sentences, of
    which ``heldout_per_noun / 6`` are held out (768 for 1).

    Args:
        heldout_per_noun: adjectives held out per noun, 1 to 5 (at least one of each noun's
            adjectives stays in training).
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`CoreferenceData`; the same arguments always give the same tensors.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if ``heldout_per_noun`` is not between 1 and 5.
    """
    for name, value in (("heldout_per_noun", heldout_per_noun), ("seed", seed)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    num_adjectives = len(AGENT_ADJECTIVES)
    if not 1 <= heldout_per_noun <= num_adjectives - 1:
        raise ValueError(
            f"heldout_per_noun must be between 1 and {num_adjectives - 1}, got {heldout_per_noun}"
        )
    generator = torch.Generator().manual_seed(seed)
    held_out: list[tuple[str, str]] = []
    for nouns, adjectives in ((AGENTS, AGENT_ADJECTIVES), (PLACES, PLACE_ADJECTIVES)):
        # A random Latin-square layout: noun i holds out the adjectives shift + i, shift + i + 1, ...
        order = torch.randperm(len(adjectives), generator=generator).tolist()
        for i, noun in enumerate(nouns):
            for j in range(heldout_per_noun):
                held_out.append((noun, adjectives[order[(i + j) % len(adjectives)]]))
    held = set(held_out)

    words = ["the", "didn't", "because", "it", "was", "too", "."]
    vocab = tuple(words + list(AGENTS) + list(PLACES) + list(VERBS))
    vocab = vocab + AGENT_ADJECTIVES + PLACE_ADJECTIVES
    index = {word: i for i, word in enumerate(vocab)}
    splits: dict[bool, tuple[list[list[int]], list[int], list[int]]] = {
        False: ([], [], []),
        True: ([], [], []),
    }
    for agent in AGENTS:
        for verb in VERBS:
            for place in PLACES:
                for adjective in AGENT_ADJECTIVES + PLACE_ADJECTIVES:
                    second = adjective in PLACE_ADJECTIVES
                    referent = place if second else agent
                    tokens, referents, seconds = splits[(referent, adjective) in held]
                    tokens.append([index[w] for w in make_sentence(agent, verb, place, adjective)])
                    referents.append(index[referent])
                    seconds.append(int(second))

    def as_tensors(split: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tokens, referents, seconds = splits[split]
        return (
            torch.tensor(tokens, dtype=torch.long),  # (n, num_steps)
            torch.tensor(referents, dtype=torch.long),  # (n,)
            torch.tensor(seconds, dtype=torch.long),  # (n,)
        )

    return CoreferenceData(vocab, *as_tensors(False), *as_tensors(True), tuple(held_out))
