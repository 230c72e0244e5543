"""gunicorn's settings for drafting, read by `gunicorn ... wsgi:app` started in this directory
(from elsewhere: `gunicorn -c /srv/drafting/gunicorn.conf.py ... wsgi:app`). Options given on
the command line (workers, threads, bind) are not set here."""


def post_worker_init(worker):
    """Once a worker process has loaded the app: deliver the outbox from now on, not from the
    first request, and build links on the bound address when PUBLIC_URL is unset."""
    from drafting.app import served

    # The app of wsgi:app only: other Flask apps served from this directory (bench's floor) have
    # none of its settings.
    if getattr(worker.wsgi, "name", None) == "drafting.app":
        served(worker.wsgi, worker.cfg.bind, https=worker.cfg.is_ssl)
