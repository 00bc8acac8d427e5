"""crawler: check the links of reference lists and find archived copies of the dead ones."""

__version__ = "0.2.0"
