"""OpenSGL resources package."""
