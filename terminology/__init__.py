"""OpenSGL terminology package."""
