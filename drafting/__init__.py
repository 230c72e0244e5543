"""drafting: joint declarations and action plans written clause by clause, live.

The application is built by `drafting.app.create_app()`; this package file stays empty so that
importing any module of it loads only what that module imports.
"""
