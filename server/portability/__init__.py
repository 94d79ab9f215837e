"""Portability (SGL.PORT.01): the FHIR Bulk Data export of the lab's health data and CR-Bio documents, over
HTTP (``$export``, asynchronous) and from the command line (``sgl export``), and ``sgl import`` of such an
export into an empty store. See README.md for the format."""
