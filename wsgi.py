"""The WSGI entry point: `gunicorn wsgi:app` (see docs/deploy.md), `flask --app wsgi ...`."""

import gc

from drafting.app import create_app

app = create_app()

# Everything built so far (modules, the app, its compiled routes) lives as long as the process:
# keep it out of the collector's way so that collections during requests stay short.
gc.collect()
gc.freeze()
