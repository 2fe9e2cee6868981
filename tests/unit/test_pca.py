"""PCA: axes of a cloud with a known covariance."""

import numpy as np

from rnndyn.analysis.pca import principal_axes


def test_axes_and_variance_of_a_stretched_cloud():
    rng = np.random.default_rng(0)
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    points = (rng.normal(size=(20000, 3)) * [3.0, 2.0, 1.0]) @ rotation.T + [1.0, -2.0, 0.5]
    mean, axes, explained = principal_axes(points, 2)
    np.testing.assert_allclose(mean, [1.0, -2.0, 0.5], atol=0.05)
    assert axes.shape == (2, 3)
    np.testing.assert_allclose(np.abs(axes @ rotation), [[1, 0, 0], [0, 1, 0]], atol=0.02)
    np.testing.assert_allclose(explained, np.array([9.0, 4.0]) / 14.0, atol=0.01)


def test_leading_dimensions_are_samples_and_a_point_has_no_variance():
    states = np.ones((4, 5, 2))
    mean, axes, explained = principal_axes(states)
    np.testing.assert_array_equal(mean, [1.0, 1.0])
    assert axes.shape == (2, 2) and not explained.any()
