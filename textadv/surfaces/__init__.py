from .base import Batch, Surface, to_device
from .image import ImageSurface
from .text import TextSurface

__all__ = ["Batch", "Surface", "ImageSurface", "TextSurface", "to_device"]
