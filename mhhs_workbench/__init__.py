"""mhhs-workbench: realistic, valid test data for GB Market-wide Half-Hourly Settlement."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mhhs-workbench")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
