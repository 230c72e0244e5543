"""`flask --app wsgi notifications work|status`: a dedicated delivery process, and the outbox's counts."""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import AppGroup

from . import worker

notifications_cli = AppGroup("notifications", help="Deliver the e-mail outbox.")


@notifications_cli.command("work")
@click.option("--once", is_flag=True, help="Do one round (reminders, digests, every due mail) and exit.")
@click.option("--interval", default=worker.ROUND_SECONDS, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between rounds.")
def work(once: bool, interval: float) -> None:
    """Deliver queued mail, retrying with backoff, until SIGTERM or SIGINT (see docs/deploy.md)."""
    app = current_app._get_current_object()
    if not app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not set: nothing is sent; mails stay in the outbox "
                   "(reminders and digests are still written).", err=True)
    if once:
        counts = worker.run_round(app)
        click.echo(" ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "nothing to do")
        return
    loop = worker.Worker(app, interval=interval)

    def stop(signum, _frame):
        click.echo(f"notifications worker: {signal.Signals(signum).name}, stopping after this round", err=True)
        loop.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"notifications worker: delivering every {interval:g} s (Ctrl+C or SIGTERM stops)", err=True)
    loop.run()


@notifications_cli.command("status")
def status() -> None:
    """Print how many mails are in each status."""
    counts = worker.status_counts()
    for name in ("queued", "sending", "sent", "failed", "held", "digested", "uncertain"):
        click.echo(f"{name:10} {counts.get(name, 0)}")
