"""A faithful local DMP (registry + repository) for tests and demonstrations: ``sgl dmp-simulator``."""
