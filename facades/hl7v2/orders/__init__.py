"""HL7 v2 lab orders in: OML^O21 read into typed orders carrying FHIR parts (Patient, Identifiers,
References). Pure; the server looks the exams up in its catalogue and writes the resources."""

from facades.hl7v2.orders.oml import OmlMessage, OmlOrder, read_oml_o21
from facades.hl7v2.orders.values import fhir_datetime

__all__ = ["OmlMessage", "OmlOrder", "fhir_datetime", "read_oml_o21"]
