"""Worklist Tasks (``server/worklist.py``): the label a person reads names what failed."""

from __future__ import annotations

from server.delivery.channel import Action
from server.worklist import DELIVERY_FAILED, DISPLAY, delivery_failed_label, worklist_task


def test_a_failed_delivery_task_is_labelled_by_what_it_carried() -> None:
    labels = {action: delivery_failed_label(action) for action in Action}
    assert labels[Action.NOTICE].startswith("Avis de tube refusé") and "CR-Bio" not in labels[Action.NOTICE]
    assert "identité" in labels[Action.IDENTITY] and "CR-Bio" not in labels[Action.IDENTITY]
    for action in (Action.PUBLISH, Action.REPLACE, Action.DELETE, Action.SETTINGS):
        assert labels[action] == "Envoi du CR-Bio en échec : à relancer ou annuler"
    task = worklist_task(DELIVERY_FAILED, "Communication/n1", "Patient/p1", "…", label=labels[Action.NOTICE])
    assert task["code"]["text"] == labels[Action.NOTICE]
    assert task["code"]["coding"][0] == {"system": "https://opensgl.org/fhir/CodeSystem/worklist",
                                         "code": "delivery-failed", "display": DISPLAY[DELIVERY_FAILED]}
    assert "CR-Bio" not in DISPLAY[DELIVERY_FAILED]  # one display for every failed delivery: the code's
    assert worklist_task(DELIVERY_FAILED, "DiagnosticReport/r1", None, "…")["code"]["text"] == DISPLAY[DELIVERY_FAILED]
