"""The report view: everything the CR-Bio PDF prints, as small typed dataclasses.

The server builds it from the DiagnosticReport, its Observations, Specimens, the Patient and the lab
settings; ``ReportView.from_dict`` accepts the same content as plain JSON (unknown keys and wrong
types are refused with the dotted path of the spot). Dates are ISO 8601 strings as in FHIR and are
printed as they are written (no time-zone conversion). Values are strings already formatted by the
caller; the renderer only switches the decimal point to a comma.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union

from facades.pdf.datamatrix import ins_datamatrix_content, parse_ins_datamatrix
from facades.pdf.errors import DatamatrixError, PdfInputError
from resources import patient_traits as traits
from resources.errors import RuleViolation
from resources.ins import (
    INS_TYPE_BY_OID,
    OID_INS_NIA,
    OID_INS_NIR_DEMO,
    OID_INS_NIR_TEST,
    emittable_ins,
    identity_status,
)

FLAGS = ("H", "HH", "L", "LL", "A")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")
OPTIONAL_TRAITS = ("birth_given_names", "birthplace", "used_names", "local_id")


def _check_dates(holder: object, *names: str) -> None:
    """ISO 8601 dates as FHIR writes them (``00`` day or month allowed in a birth date)."""
    for name in names:
        value = getattr(holder, name)
        if value is not None and not _ISO_DATE.match(value):
            raise PdfInputError(f"{name} {value!r} is not an ISO 8601 date", expression=name)


@dataclass(frozen=True)
class Laboratory:
    name: str
    address: list[str]
    finess: str
    phone: str = ""
    biologists: list[str] = field(default_factory=list)
    cofrac_number: str | None = None
    cofrac_scope: str = "Portée d'accréditation disponible sur www.cofrac.fr"
    cofrac_activity: str = "Examens de biologie médicale"


@dataclass(frozen=True)
class PatientIdentity:
    """The RNIV identity block; the INS and its Datamatrix only for a QUAL identity (SGL.INS.37)."""

    birth_name: str
    first_birth_given_name: str
    birth_date: str
    sex: str
    birth_given_names: list[str] = field(default_factory=list)
    birthplace_cog: str | None = None
    used_name: str | None = None
    used_given_name: str | None = None
    identity_status: str = "PROV"
    ins_matricule: str | None = None
    ins_oid: str | None = None
    datamatrix: str | None = None
    local_id: str | None = None

    def __post_init__(self) -> None:
        _check_dates(self, "birth_date")
        if self.identity_status != "QUAL" and (self.ins_matricule or self.ins_oid or self.datamatrix):
            raise RuleViolation("SGL.INS.37", "the INS and its Datamatrix may be printed only for a "
                                f"qualified identity (status {self.identity_status})",
                                expression="view.patient")
        if bool(self.ins_matricule) != bool(self.ins_oid):
            raise PdfInputError("ins_matricule and ins_oid go together", expression="view.patient.ins_oid")
        if self.ins_oid and self.ins_oid not in INS_TYPE_BY_OID:
            raise PdfInputError(f"{self.ins_oid} is not an INS OID", expression="view.patient.ins_oid")
        if self.datamatrix:  # the symbol must name the same person as the printed matricule
            try:
                coded = parse_ins_datamatrix(self.datamatrix)
            except DatamatrixError as exc:
                raise PdfInputError(f"datamatrix: {exc.diagnostics}", expression="view.patient.datamatrix") from exc
            if (coded["matricule"], coded["oid"]) != (self.ins_matricule, self.ins_oid):
                raise PdfInputError("the Datamatrix does not carry the printed INS",
                                    expression="view.patient.datamatrix")

    @property
    def ins_nature(self) -> str | None:
        """NIR or NIA, printed after the matricule (RNIV rule 32)."""
        return "NIA" if self.ins_oid == OID_INS_NIA else ("NIR" if self.ins_oid else None)

    @property
    def ins_environment(self) -> str | None:
        """``TEST`` / ``DEMO`` for the non-production INS OIDs, as the ANS stylesheet shows them."""
        return {OID_INS_NIR_TEST: "TEST", OID_INS_NIR_DEMO: "DEMO"}.get(self.ins_oid or "")

    @classmethod
    def from_patient(cls, patient: dict[str, Any], local_id: str | None = None) -> PatientIdentity:
        """Take the traits of a FHIR Patient; the INS only when ``emittable_ins`` allows it."""
        ins = emittable_ins(patient)
        required = (("Patient.name.where(use='official').family", traits.birth_name(patient)),
                    ("Patient.name.where(use='official').given", traits.first_birth_given_name(patient)),
                    ("Patient.birthDate", traits.birth_date(patient)))
        missing = [path for path, value in required if not value]
        if missing:
            raise PdfInputError("the Patient lacks traits a report must print: " + ", ".join(missing),
                                expression=missing)
        return cls(
            birth_name=str(traits.birth_name(patient)),
            first_birth_given_name=str(traits.first_birth_given_name(patient)),
            birth_given_names=traits.birth_given_names(patient),
            birth_date=str(traits.birth_date(patient)),
            sex=traits.sex_code(patient) or "",
            birthplace_cog=traits.birthplace_cog(patient),
            used_name=traits.used_name(patient),
            used_given_name=traits.used_given_name(patient),
            identity_status=identity_status(patient),
            ins_matricule=ins["value"].upper() if ins else None,
            ins_oid=str(ins["system"]).removeprefix("urn:oid:") if ins else None,
            datamatrix=ins_datamatrix_content(patient),
            local_id=local_id,
        )


@dataclass(frozen=True)
class Prescriber:
    name: str
    identifier: str = ""
    address: str = ""


@dataclass(frozen=True)
class SpecimenInfo:
    label: str
    accession: str = ""
    collected_at: str | None = None
    received_at: str | None = None
    comment: str = ""

    def __post_init__(self) -> None:
        _check_dates(self, "collected_at", "received_at")


@dataclass(frozen=True)
class ResultLine:
    label: str
    value: str
    unit: str = ""
    reference_range: str = ""
    flag: str | None = None
    previous_value: str | None = None
    previous_date: str | None = None
    comment: str = ""
    accredited: bool = False
    autoverified: bool = False  # validated by rules with no later biologist review (SGL.DOC.09)

    def __post_init__(self) -> None:
        _check_dates(self, "previous_date")
        if self.flag is not None and self.flag not in FLAGS:
            raise PdfInputError(f"flag {self.flag!r} is not one of {', '.join(FLAGS)}", expression="flag")


@dataclass(frozen=True)
class Section:
    results: list[ResultLine]
    title: str = ""
    comment: str = ""


@dataclass(frozen=True)
class Chapter:
    title: str
    sections: list[Section]


@dataclass(frozen=True)
class Validation:
    validated_at: str
    biologist: str = ""

    def __post_init__(self) -> None:
        _check_dates(self, "validated_at")


@dataclass(frozen=True)
class Replacement:
    """The report this version cancels and replaces (SGL.MSS.24)."""

    replaced_issued_at: str
    replaced_id: str = ""

    def __post_init__(self) -> None:
        _check_dates(self, "replaced_issued_at")


@dataclass(frozen=True)
class ReportTexts:
    """Site settings printed on every report."""

    rgpd: str = ""
    autoverification: str = ("Certains résultats de ce compte rendu ont été validés automatiquement selon "
                             "des règles définies par le biologiste, sans relecture ultérieure.")
    extra_traits: list[str] = field(default_factory=lambda: list(OPTIONAL_TRAITS))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.extra_traits) - set(OPTIONAL_TRAITS))
        if unknown:
            raise PdfInputError(f"unknown extra trait(s) {', '.join(unknown)}",
                                expression="view.texts.extra_traits")


@dataclass(frozen=True)
class ReportView:
    report_id: str
    issued_at: str
    laboratory: Laboratory
    patient: PatientIdentity
    chapters: list[Chapter]
    validation: Validation
    prescriber: Prescriber | None = None
    copies_to: list[str] = field(default_factory=list)
    specimens: list[SpecimenInfo] = field(default_factory=list)
    status: str = "final"
    version: int = 1
    replaces: Replacement | None = None
    texts: ReportTexts = field(default_factory=ReportTexts)
    copy: str | None = None
    """Which copy this is when the lab makes two (SGL.DOC.02): printed under the title, ``patient`` also names
    the file; None (one version) prints nothing."""

    def __post_init__(self) -> None:
        _check_dates(self, "issued_at")
        if not self.results:
            raise PdfInputError("a report needs at least one result", expression="view.chapters")
        if self.status not in ("final", "partial"):
            raise PdfInputError(f"status {self.status!r} must be final or partial", expression="view.status")
        if self.accredited_results and not self.laboratory.cofrac_number:
            raise PdfInputError("results are marked accredited but the laboratory has no Cofrac number",
                                expression="view.laboratory.cofrac_number")

    @property
    def results(self) -> list[ResultLine]:
        return [r for c in self.chapters for s in c.sections for r in s.results]

    @property
    def accredited_results(self) -> list[ResultLine]:
        return [r for r in self.results if r.accredited]

    @property
    def has_autoverified(self) -> bool:
        return any(r.autoverified for r in self.results)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportView:
        """Build and check a view from plain JSON; errors name the dotted path (``view.chapters[0]...``)."""
        return typing.cast(ReportView, _build(cls, data, "view"))


def _build(tp: Any, data: Any, path: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if data is None:
            return None
        return _build(next(a for a in args if a is not type(None)), data, path)
    if origin is list:
        if not isinstance(data, list):
            raise PdfInputError(f"{path} must be a list", expression=path)
        return [_build(args[0], item, f"{path}[{i}]") for i, item in enumerate(data)]
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise PdfInputError(f"{path} must be an object", expression=path)
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise PdfInputError(f"{path} has unknown key(s) {', '.join(unknown)}",
                                expression=f"{path}.{unknown[0]}")
        kwargs = {k: _build(hints[k], v, f"{path}.{k}") for k, v in data.items()}
        try:
            return typing.cast(Any, tp)(**kwargs)
        except TypeError as exc:
            raise PdfInputError(f"{path}: {exc}", expression=path) from exc
        except PdfInputError as exc:
            where = [e if e.startswith("view") else f"{path}.{e}" for e in exc.expression] or [path]
            raise PdfInputError(exc.diagnostics, expression=where) from exc
    if tp is bool or tp is int or tp is str:
        if type(data) is not tp:
            raise PdfInputError(f"{path} must be {tp.__name__}, got {type(data).__name__}", expression=path)
        return data
    raise PdfInputError(f"{path}: unsupported type {tp!r}", expression=path)
