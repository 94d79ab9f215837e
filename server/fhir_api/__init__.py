"""HTTP routers: thin adapters from requests to the interactions in ``resources.interactions``."""
