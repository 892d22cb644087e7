"""ClickHouse: the two backends (embedded chdb, a server), versioned migrations, retention, and the loader that
copies the output topics into the tables."""
