"""Storage: SQLModel tables, engines and sessions from a URL, named queries."""
