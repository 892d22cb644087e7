"""The local services (a Tansu broker and a ClickHouse server as background processes) and what ``make setup``
fetches as data from pinned PyPI wheels (the Flink Kafka connector jars, the PLMN table)."""
