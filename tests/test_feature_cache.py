"""helpers.feature_cache: a hit reuses features, any change to what they depend on recomputes.

Tiny arrays and files only; no framework is imported.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from helpers.feature_cache import (
    cached_features,
    clear_feature_cache,
    feature_key,
    features_dir,
    key_digest,
    weights_digest,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_COURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def images(tmp_path):
    paths = []
    for i, name in enumerate(["b.jpg", "a with space.jpg", "c.jpg"]):
        path = tmp_path / "images" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes([i]) * (10 + i))
        paths.append(path)
    return [(path, i % 2) for i, path in enumerate(paths)]


class Counter:
    """A compute function that counts its calls and returns fresh tiny features."""

    def __init__(self, value: float = 1.0):
        self.calls = 0
        self.value = value

    def __call__(self):
        self.calls += 1
        return np.full((3, 2, 2, 4), self.value, np.float32), np.array([0, 1, 0])


def key_for(images, size=32, source="random", **extra):
    return feature_key("tiny", size, images, source, split="train", **extra)


def test_miss_then_hit_returns_the_same_arrays(cache, images, capsys):
    compute = Counter()
    first = cached_features(key_for(images), compute)
    assert "MISS" in capsys.readouterr().out
    second = cached_features(key_for(images), compute)
    assert "HIT" in capsys.readouterr().out
    assert compute.calls == 1
    assert (first.hit, second.hit) == (False, True)
    x, y = second  # unpacks like a pair
    np.testing.assert_array_equal(x, first.x)
    np.testing.assert_array_equal(y, [0, 1, 0])
    assert x.dtype == np.float32 and x.shape == (3, 2, 2, 4)
    assert second.compute_seconds == pytest.approx(first.compute_seconds)
    assert second.path.parent == features_dir() and second.path.suffix == ".npz"


def test_key_ignores_the_order_of_samples(cache, images):
    assert key_digest(key_for(images)) == key_digest(key_for(list(reversed(images))))


@pytest.mark.parametrize(
    "change",
    ["image_size", "weights_source", "backbone", "extra", "file_content", "file_mtime", "file_added", "label"],
)
def test_any_change_invalidates(cache, images, change):
    compute = Counter()
    cached_features(key_for(images), compute)
    if change == "image_size":
        key = key_for(images, size=64)
    elif change == "weights_source":
        key = key_for(images, source="imagenet")
    elif change == "backbone":
        key = feature_key("other", 32, images, "random", split="train")
    elif change == "extra":
        key = key_for(images, preprocessing="other")
    elif change == "file_content":
        images[0][0].write_bytes(b"changed content, another size")
        key = key_for(images)
    elif change == "file_mtime":
        stat = images[0][0].stat()
        os.utime(images[0][0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        key = key_for(images)
    elif change == "file_added":
        extra = images[0][0].with_name("d.jpg")
        extra.write_bytes(b"new")
        key = key_for(images + [(extra, 1)])
    else:
        key = key_for([(images[0][0], 1 - images[0][1])] + images[1:])
    result = cached_features(key, compute)
    assert compute.calls == 2 and not result.hit
    assert cached_features(key, compute).hit and compute.calls == 2


def test_weights_digest_tracks_the_weights(cache, images):
    class Model:  # duck-typed like a Keras model
        def __init__(self, value):
            self.value = value

        def get_weights(self):
            return [np.full((2, 2), self.value, np.float32), np.zeros(3, np.float32)]

    assert weights_digest(Model(1.0)) == weights_digest(Model(1.0))
    assert weights_digest(Model(1.0)) != weights_digest(Model(2.0))
    compute = Counter()
    cached_features(key_for(images, model=None), compute)
    cached_features(feature_key("tiny", 32, images, "random", model=Model(1.0)), compute)
    cached_features(feature_key("tiny", 32, images, "random", model=Model(2.0)), compute)
    cached_features(feature_key("tiny", 32, images, "random", model=Model(2.0)), compute)
    assert compute.calls == 3


def test_corrupt_or_foreign_file_is_recomputed(cache, images, capsys):
    compute = Counter(1.0)
    first = cached_features(key_for(images), compute)
    first.path.write_bytes(b"not a zip file")
    again = cached_features(key_for(images), compute)
    assert not again.hit and compute.calls == 2
    assert "unreadable or stale" in capsys.readouterr().out
    # a file holding another key under this name (a collision) is never trusted
    other = cached_features(key_for(images, size=99), Counter(5.0))
    os.replace(other.path, first.path)
    third = cached_features(key_for(images), compute)
    assert not third.hit and compute.calls == 3
    np.testing.assert_array_equal(third.x, np.ones((3, 2, 2, 4), np.float32))


def test_failed_compute_leaves_nothing_behind(cache, images):
    def broken():
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        cached_features(key_for(images), broken)
    assert list(features_dir().iterdir()) == []
    with pytest.raises(ValueError, match="must match"):
        cached_features(key_for(images), lambda: (np.zeros((3, 2)), np.zeros(2)))
    assert list(features_dir().iterdir()) == []


def test_clear_feature_cache(cache, images):
    cached_features(key_for(images), Counter())
    cached_features(key_for(images, size=8), Counter())
    assert clear_feature_cache() == 2
    assert list(features_dir().iterdir()) == []
    compute = Counter()
    assert not cached_features(key_for(images), compute).hit and compute.calls == 1
