"""Helpers shared by tests of more than one package (and by ``bench/``): import them from here, never
from a ``conftest.py`` or from another test module. Fixtures stay in the ``conftest.py`` of the tests
that use them; the plain functions, classes and sample data they build on live here, one module per
subject: a running server (``sgl_server``, ``dedicated_lab``, ``identity_servers``), a workflow's test
lab (``analyzer_lab``, ``validation_lab``, ``orders_lab``), a partner's side of a protocol
(``adt_feed``, ``raw_instrument``, ``insi_kit``, ``pki``), sample inputs written for the tests
(``*_samples``, ``loinc_rows``) and readers of what the server produced (``pdf_text``).
"""
