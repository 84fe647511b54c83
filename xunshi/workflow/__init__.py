"""The engine: machines, deadlines, escalation, audit and the inspection services."""
