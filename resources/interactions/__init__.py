"""FHIR interactions as plain async functions from (request data, store) to an ``Outcome``.

They know nothing of HTTP frameworks: the REST routes, bundles, HL7 and CLI paths call the same
functions. Add an interaction as one file here and export it below.
"""

from resources.interactions.bundle import process_bundle
from resources.interactions.create import create, create_many
from resources.interactions.delete import conditional_delete, delete
from resources.interactions.history import history
from resources.interactions.outcome import Outcome
from resources.interactions.read import read, vread
from resources.interactions.references import ReferenceCheck
from resources.interactions.search import search
from resources.interactions.update import conditional_update, update
from resources.interactions.write_rules import AccessCheck, WriteIntent, WriteRule, stamped

__all__ = ["AccessCheck", "Outcome", "ReferenceCheck", "WriteRule", "WriteIntent", "conditional_delete",
           "conditional_update", "create", "create_many",
           "delete", "history", "process_bundle", "read", "search", "stamped", "update", "vread"]
