"""The web UI: server-rendered pages over the same services and selectors as the REST API."""
