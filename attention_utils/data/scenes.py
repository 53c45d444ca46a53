"""Small scenes of coloured shapes and the captions that describe them, chapter 13.

Show, attend and tell (Xu et al., "Show, attend and tell: neural image caption generation with
visual attention", ICML 2015, arXiv:1502.03044) captions photographs; here the photographs are
made on the spot, so that the true position of every object a caption names is known and a map of
attention can be scored against it.

Every image is a 3 x 3 grid of cells of ``cell_size`` pixels. Two objects (a colour and a shape
each) sit in two different cells, each shifted by up to one pixel inside its cell. The caption
names them in reading order, top to bottom and then left to right, with the relation between
them::

    <bos> COLOUR SHAPE RELATION COLOUR SHAPE <eos>

where RELATION is ``above`` when the first object sits in a higher row and ``left-of`` when both
share a row. "red square above blue circle": to say "blue" after "above", a model must look at
the second object, so the order of the words requires looking in the right place. Everything is
deterministic given the seed; nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import require_int, require_positive_int

__all__ = [
    "COLOURS",
    "SCENE_WORDS",
    "SHAPES",
    "SceneData",
    "scene_data",
]

#: The colours, with their RGB values in [0, 1].
COLOURS = {"red": (1.0, 0.15, 0.1), "green": (0.1, 0.85, 0.2), "blue": (0.15, 0.3, 1.0)}
SHAPES = ("square", "circle", "cross")
RELATIONS = ("above", "left-of")
#: The vocabulary: token ``t`` is the word ``SCENE_WORDS[t]``.
SCENE_WORDS = ("<pad>", "<bos>", "<eos>", *COLOURS, *SHAPES, *RELATIONS)
GRID = 3  # cells per side
CAPTION_LEN = 7  # <bos>, five words, <eos>
#: Positions (in the caption with <bos> at 0) of the words that name the first / second object.
FIRST_OBJECT_WORDS, SECOND_OBJECT_WORDS = (1, 2), (4, 5)


@dataclass(frozen=True)
class SceneData:
    """Images, their captions and the true cell of every object.

    Attributes:
        images: ``(n, 3, 3 * cell_size, 3 * cell_size)``, float32 in [0, 1], black background.
        captions: ``(n, 7)`` long tokens ``<bos> c s r c s <eos>`` into :attr:`vocab`.
        cells: ``(n, 2)`` long, the cell (``row * 3 + column``, 0 to 8) of the first and the
            second named object.
        word_cells: ``(n, 6)`` long: for each word to predict (caption positions 1 to 6), the cell
            of the object it names, or -1 for the relation and ``<eos>``.
        vocab: the words, :data:`SCENE_WORDS`.
        cell_size: pixels per cell side.
    """

    images: torch.Tensor
    captions: torch.Tensor
    cells: torch.Tensor
    word_cells: torch.Tensor
    vocab: tuple[str, ...] = SCENE_WORDS
    cell_size: int = 8

    def __len__(self) -> int:
        return self.images.shape[0]

    def decode(self, tokens: torch.Tensor) -> list[str]:
        """Tokens of shape ``(num_steps,)`` -> words, without ``<bos>``/``<pad>``, to ``<eos>``."""
        words = []
        for token in tokens.tolist():
            word = self.vocab[token]
            if word == "<eos>":
                break
            if word not in ("<bos>", "<pad>"):
                words.append(word)
        return words


def _shape_mask(shape: str, size: int) -> torch.Tensor:
    """A bool ``(size, size)`` mask of the shape drawn in a square of ``size`` pixels."""
    r = torch.arange(size, dtype=torch.float32) - (size - 1) / 2  # (size,)
    y, x = r[:, None], r[None, :]  # (size, 1), (1, size)
    half = size / 2
    if shape == "square":
        return (y.abs() <= half - 0.5) & (x.abs() <= half - 0.5)
    if shape == "circle":
        return y**2 + x**2 <= half**2
    return (y.abs() < 1) | (x.abs() < 1)  # cross: two bars through the centre


def scene_data(num_scenes: int = 1000, cell_size: int = 8, seed: int = 0) -> SceneData:
    """Make ``num_scenes`` scenes of two coloured shapes, with captions and true cells.

    For each scene two different cells of the 3 x 3 grid, two colours and two shapes are drawn
    uniformly and independently (the two objects may look alike); each shape fills a square of
    ``cell_size - 2`` pixels placed at a random offset of 0 to 2 pixels inside its cell, its RGB
    colour scaled by a brightness drawn from [0.7, 1]. The first object of the caption is the one
    met first in reading order (row, then column).

    Args:
        num_scenes: how many scenes, >= 1.
        cell_size: pixels per cell side, >= 5 (images are ``3 * cell_size`` pixels square).
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`SceneData`; the same arguments always give the same tensors.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if ``num_scenes < 1`` or ``cell_size < 5``.

    Source: the task imitates the captions of Xu et al. 2015, arXiv:1502.03044.
    """
    num_scenes = require_positive_int("num_scenes", num_scenes)
    cell_size = require_int("cell_size", cell_size, minimum=5)
    seed = require_int("seed", seed)
    generator = torch.Generator().manual_seed(seed)
    side, size = GRID * cell_size, cell_size - 2
    index = {word: i for i, word in enumerate(SCENE_WORDS)}
    colour_names, colour_values = list(COLOURS), torch.tensor(list(COLOURS.values()))
    masks = {shape: _shape_mask(shape, size) for shape in SHAPES}

    cell_pairs = [torch.randperm(GRID * GRID, generator=generator)[:2].tolist()
                  for _ in range(num_scenes)]
    colours = torch.randint(len(colour_names), (num_scenes, 2), generator=generator).tolist()
    shapes = torch.randint(len(SHAPES), (num_scenes, 2), generator=generator).tolist()
    offsets = torch.randint(3, (num_scenes, 2, 2), generator=generator).tolist()
    brightness = 0.7 + 0.3 * torch.rand(num_scenes, 2, generator=generator)  # (n, 2)
    images = torch.zeros(num_scenes, 3, side, side)  # (n, 3, height, width)
    captions = torch.empty(num_scenes, CAPTION_LEN, dtype=torch.long)
    cells = torch.empty(num_scenes, 2, dtype=torch.long)
    for n in range(num_scenes):
        order = sorted(range(2), key=lambda k: cell_pairs[n][k])  # reading order of the cells
        for k in range(2):
            row, column = divmod(cell_pairs[n][k], GRID)
            top, left = row * cell_size + offsets[n][k][0], column * cell_size + offsets[n][k][1]
            mask = masks[SHAPES[shapes[n][k]]]  # (size, size)
            colour = colour_values[colours[n][k]] * brightness[n, k]  # (3,)
            patch = images[n, :, top:top + size, left:left + size]  # (3, size, size), a view
            patch[:, mask] = colour[:, None]
        first, second = order
        same_row = cell_pairs[n][first] // GRID == cell_pairs[n][second] // GRID
        words = ["<bos>",
                 colour_names[colours[n][first]], SHAPES[shapes[n][first]],
                 "left-of" if same_row else "above",
                 colour_names[colours[n][second]], SHAPES[shapes[n][second]], "<eos>"]
        captions[n] = torch.tensor([index[w] for w in words])
        cells[n] = torch.tensor([cell_pairs[n][first], cell_pairs[n][second]])
    none = torch.full((num_scenes,), -1, dtype=torch.long)
    word_cells = torch.stack(
        [cells[:, 0], cells[:, 0], none, cells[:, 1], cells[:, 1], none], dim=1
    )  # (n, 6)
    return SceneData(images, captions, cells, word_cells, SCENE_WORDS, cell_size)
