"""OAuth applications as code: validate, plan and apply OAuth client manifests."""

__version__ = "0.1.0"
__all__ = ["__version__"]
