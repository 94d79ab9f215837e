"""Inbound messages (HL7 v2 over MLLP, ASTM over TCP): journal and dispatch by message type.

Every message is written raw to the journal before any processing, and acknowledged only once its
handler's writes are durable. Handlers are registered in ``server/wiring.py``; ``server/listeners.py``
runs the sockets.
"""
