"""The scenes of chapter 13: deterministic, and every caption true of its image."""

import torch

from attention_utils import COLOURS, SCENE_WORDS, SHAPES, scene_data


def test_same_seed_same_scenes_other_seed_other_scenes():
    a, b, c = scene_data(50, seed=3), scene_data(50, seed=3), scene_data(50, seed=4)
    for name in ("images", "captions", "cells", "word_cells"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.images, c.images)


def test_global_random_state_is_untouched():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    scene_data(5, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_shapes_and_ranges():
    data = scene_data(20, cell_size=6)
    assert data.images.shape == (20, 3, 18, 18)
    assert data.images.dtype == torch.float32
    assert 0 <= data.images.min() and data.images.max() <= 1
    assert data.captions.shape == (20, 7) and data.cells.shape == (20, 2)
    assert data.word_cells.shape == (20, 6)
    assert len(data) == 20 and data.vocab == SCENE_WORDS


def test_every_caption_is_true_of_its_image():
    data = scene_data(200, seed=2)
    size = data.cell_size
    rgb = torch.tensor(list(COLOURS.values()))  # (3 colours, 3 channels)
    for n in range(len(data)):
        words = data.decode(data.captions[n])
        assert len(words) == 5 and words[2] in ("above", "left-of")
        first, second = data.cells[n].tolist()
        assert first < second, "the first named object comes first in reading order"
        assert (words[2] == "left-of") == (first // 3 == second // 3)
        for cell, colour, shape in ((first, words[0], words[1]), (second, words[3], words[4])):
            assert shape in SHAPES
            row, column = divmod(cell, 3)
            top, left = row * size, column * size
            patch = data.images[n, :, top:top + size, left:left + size]
            lit = patch.sum(0) > 0  # (size, size)
            assert lit.any(), "the named cell holds an object"
            mean = patch[:, lit].mean(1)  # (3,), the object's colour times its brightness
            nearest = (rgb / rgb.norm(dim=1, keepdim=True) @ (mean / mean.norm())).argmax()
            assert list(COLOURS)[nearest] == colour
        lit_cells = (data.images[n].sum(0).reshape(3, size, 3, size).sum((1, 3)) > 0).sum()
        assert lit_cells == 2, "exactly two cells hold an object"
        assert data.word_cells[n].tolist() == [first, first, -1, second, second, -1]


def test_decode_stops_at_eos_and_drops_bos():
    data = scene_data(3)
    assert data.decode(data.captions[0]) == data.decode(data.captions[0, 1:])
    assert data.vocab[data.captions[0, -1]] == "<eos>"
