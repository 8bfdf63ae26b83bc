"""The image side: MNIST-5k / digits data and a small Madry-style CNN."""
from .data import DATASETS, ImageSplit, load_images, stratified_split
from .experiment import ADV_CHOICES, ImageExperimentConfig, load_model, run_experiment
from .models import CNNConfig, SmallCNN

__all__ = ["DATASETS", "ImageSplit", "load_images", "stratified_split", "CNNConfig", "SmallCNN", "ADV_CHOICES",
           "ImageExperimentConfig", "load_model", "run_experiment"]
