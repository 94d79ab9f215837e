"""MSSanté delivery of the CR-Bio: who gets it (rules), what the mail says, the outbox channel."""
