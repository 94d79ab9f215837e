"""Administration of who may use the lab system (issue 15, "Administration"): local accounts and their
roles, and the socket partners. The service functions both doors call live with what they change:
``server/access/administration.py`` (accounts) and ``server/partners/administration.py`` (partners), each
change traced by an AuditEvent (``server/access/admin_audit.py``); the ``sgl users`` / ``sgl partners``
commands and the ``/fhir/Person`` / ``/fhir/Endpoint`` routes here (``routes``) call them; ``shapes``
renders accounts and partners as FHIR resources."""
