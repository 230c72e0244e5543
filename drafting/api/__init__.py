"""The JSON API, /api/v1: bearer tokens only (see api.auth); one module per area."""
