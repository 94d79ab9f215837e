"""The PAM-FR identity feed (hospital lab, "esclave de l'identité"): ADT over MLLP -> Patient.

One file per step: ``lookup`` (the Patient of an IPP), ``serial`` (one writer per IPP),
``upsert`` (A28/A31/A01/A04/A05/A03/A08), ``merge`` (A40), ``change_id`` (A47), ``handler``
(read, write rules, write, acknowledge; registration).
"""

from server.identity_feed.handler import FEED_ROLE, IdentityFeed, register_identity_feed

__all__ = ["FEED_ROLE", "IdentityFeed", "register_identity_feed"]
