"""The marketers' console (`touchpoint console serve`, docs/console.md): a Flask application that lists campaigns
and trial journeys with their live figures from ClickHouse, edits them in forms built from the JSON Schemas the
CLI validates against, previews a draft with the backtest, publishes, pauses and resumes, and shows the
micro-region map. The web layer (``app``, ``views_*``, templates) is thin; what it shows and does is in the
modules beside it, which import no Flask and are tested directly."""
