"""textadv: adversarial robustness for text models (and the image models that share its core)."""

__version__ = "0.1.0"
