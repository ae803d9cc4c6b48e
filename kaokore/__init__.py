"""kaokore: the KaoKore face collection as a research database and as versioned ML releases."""

__version__ = "0.1.0"
__all__ = ["__version__"]
