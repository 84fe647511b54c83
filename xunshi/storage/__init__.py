"""Storage: the schema (SQLModel models, generated Core tables, Alembic migrations), the
Database (engines, transactions, error translation), named statements and the hot path."""
