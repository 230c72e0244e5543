"""The auth area: operations and their pages (the blueprint lives in routes.py)."""
