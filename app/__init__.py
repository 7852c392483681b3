"""watchfloor: the software of a social media command center."""

__version__ = "0.1.0"
