"""Delivery: the durable outbox that sends each stored CR-Bio version to its channels (DMP, DPI, MSSanté).

The contract a channel implements is in ``server/delivery/channel.py``.
"""
