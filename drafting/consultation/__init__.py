"""The consultation area: operations and their pages (the blueprint lives in routes.py)."""
