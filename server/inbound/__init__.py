"""Inbound messages (HL7 v2 over MLLP, ASTM over TCP): journal, dispatch by message type, listeners.

Every message is written raw to the journal before any processing, and acknowledged only once its
handler's writes are durable. Handlers register in ``routes.py`` (one list, like ``server/api.py``).
"""
