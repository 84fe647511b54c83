"""The domain and the engine: the decision core, the pipeline around it, deadlines and
calendars, the escalation sweep, outbox delivery, leases and the audit model."""
