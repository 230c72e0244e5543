"""The history area: operations and their pages (the blueprint lives in routes.py)."""
