from .base import Batch, Surface
from .image import ImageSurface
from .text import TextSurface

__all__ = ["Batch", "Surface", "ImageSurface", "TextSurface"]
