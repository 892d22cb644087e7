"""The Grafana dashboards (``grafana/``) and the offline HTML report: loading, lint, the ClickHouse plugin's
macro expansion, running every panel query against ClickHouse, pushing to a Grafana."""
