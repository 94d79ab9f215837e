"""The CR-Bio document lifecycle (design data flow step 5): composition, generation, storage, viewing, import.

One step per module: ``gather`` (read the dossier) -> ``compose`` (PDF view and CDA input from it)
-> ``generate`` (PDF/A-1b, N3 self-presenting, N1, each CDA validated) -> ``storage`` (Binary +
DocumentReference per format, versions superseded); ``trigger`` (a DiagnosticReport write rule) pins a
job in the validating transaction, ``producer`` makes and stores the documents after it commits, in a
process pool; ``crbio`` serves ``$cr-bio`` and ``importing``
serves ``$import-crbio`` (a subcontractor's document into a patient file).
"""

from fastapi import APIRouter

from server.documents import crbio, importing
from server.documents.gather import Dossier, gather
from server.documents.generate import Documents, generate
from server.documents.profile import LabProfile, load_profile
from server.documents.trigger import DocumentTrigger

router = APIRouter()
for _module in (crbio, importing):
    router.include_router(_module.router)

__all__ = ["DocumentTrigger", "Documents", "Dossier", "LabProfile", "gather", "generate", "load_profile", "router"]
