"""OpenSGL server package."""
