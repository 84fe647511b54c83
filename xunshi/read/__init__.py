"""The read side: every query front ends ask, in one place.

Each query opens its own read transaction and returns frozen views whose `to_json` is the
one JSON shape of that result (the CLI's `--json`, later the web's API). Queries take what
they need — the database, the definition registry, the calendars and the time zone (`ReadContext`)
— never the engine or the wiring.
"""
