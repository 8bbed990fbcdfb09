"""reconciler: applies events to Postgres, repairs drift and serves the HTTP API."""
