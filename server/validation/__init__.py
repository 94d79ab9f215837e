"""The validation workflow (design data flow step 4): flags, delta check, technical validation, rerun,
biological validation, autoverification, correction, and the write rules that lock validated results.

One operation or step per module (see README.md); ``router`` serves the operations under ``/fhir``;
``register_validation_rules`` is called by ``server/wiring.py``. Document writers read the
validation state with ``is_autoverified`` and the tags of ``marks.py`` (SGL.DOC.09).
"""

from fastapi import APIRouter

from server.validation import biological, correct, rerun, technical, withdraw
from server.validation.marks import AUTOVERIFIED, BIOLOGICAL, STEP_SYSTEM, TECHNICAL, has_step, is_autoverified
from server.validation.rules import DEFAULT_RULES, ValidationRules, load_rules
from server.validation.write_rules import register_validation_rules

router = APIRouter()
for _module in (technical, rerun, biological, correct, withdraw):
    router.include_router(_module.router)

__all__ = ["AUTOVERIFIED", "BIOLOGICAL", "DEFAULT_RULES", "STEP_SYSTEM", "TECHNICAL", "ValidationRules",
           "has_step", "is_autoverified", "load_rules", "register_validation_rules", "router"]
