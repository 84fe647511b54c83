"""The application layer: every public method is one command with its own transaction.

Commands take plain values (codes, keys, dates, small command dataclasses), check what they
can before writing, write in one transaction and return plain frozen dataclasses. Front ends
(the CLI, the demo, the scheduler, later the web desk) use these and the read side
(`xunshi.read`) only; they never see a connection, the database or the wiring.
"""
