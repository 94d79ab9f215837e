"""OpenSGL facades package."""
