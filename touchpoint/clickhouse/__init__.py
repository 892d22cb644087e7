"""ClickHouse: the two backends (embedded chdb, a server), versioned migrations, retention, the reference tables,
and the loader that copies the output topics into the tables (record -> row conversions in ``rows``)."""
