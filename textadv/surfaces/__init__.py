from .base import Batch, Surface
from .image import ImageSurface

__all__ = ["Batch", "Surface", "ImageSurface"]
