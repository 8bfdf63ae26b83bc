"""The image side: MNIST-5k / digits data and a small Madry-style CNN (the image job is :mod:`textadv.jobs.image`)."""

from .data import DATASETS, ImageSplit, load_images, stratified_split
from .models import CNNConfig, SmallCNN

__all__ = ["DATASETS", "ImageSplit", "load_images", "stratified_split", "CNNConfig", "SmallCNN"]
