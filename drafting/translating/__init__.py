"""Clause-aligned translations of a document (issue 18)."""
