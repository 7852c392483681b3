"""The local SQLite cache: schema, the single writer thread, and bounded read queries."""
