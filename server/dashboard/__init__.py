"""Delivery dashboards (SGL.TBB.01-03): aggregations over the outbox, as FHIR Parameters, CSV and ``sgl dashboard``."""
