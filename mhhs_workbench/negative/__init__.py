"""negative."""
