import numpy as np

from rednet.io.masks import grow, shrink


def test_grow_and_shrink_by_a_disc():
    mask = np.zeros((21, 21), bool)
    mask[10, 10] = True
    grown = grow(mask, 3)
    assert grown.sum() > 20 and grown[10, 13] and not grown[10, 14] and not grown[13, 13]
    assert np.array_equal(shrink(grown, 3), mask)


def test_zero_radius_and_empty_masks_are_copies():
    mask = np.eye(5, dtype=bool)
    out = grow(mask, 0)
    assert np.array_equal(out, mask) and out is not mask
    assert shrink(np.zeros((0, 0), bool), 2).shape == (0, 0)


def test_shrink_does_not_eat_in_from_the_photo_border():
    full = np.ones((8, 8), bool)
    assert shrink(full, 2).all()
