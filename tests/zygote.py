"""The tests' server nursery: one process with the served app's libraries imported that forks
each test server (gunicorn or the asyncio live server) on demand.

Starting a server as a new interpreter imports Flask, SQLAlchemy, Socket.IO, aiohttp... again
every time: about a second of CPU on this machine, over a hundred times a run. Forked from
here, a server starts with them loaded and imports only drafting itself, which must come after
the fork: drafting reads its configuration from the environment as it is imported, and each
server has its own (database, message queue, secret).

Protocol (tests/served.py is the other side), one datagram per message on a SOCK_SEQPACKET
socket pair whose file descriptor is the nursery's one argument:
- {"start": "gunicorn" | "module", "argv": [...], "env": {...}} with one file descriptor, the
  write end of the pipe that becomes the server's stdout and stderr: forks, answers {"pid": n}.
- {"reap": n}: answers {"status": returncode or null} (null: still running; a server that has
  exited stays a zombie until it is reaped, so its pid is never reused while a test holds it).
The nursery exits when the socket closes.
"""

from __future__ import annotations

import atexit
import concurrent.futures.process  # noqa: F401
import email.mime.multipart  # noqa: F401
import json
import multiprocessing.connection  # noqa: F401
import os
import runpy
import signal
import smtplib  # noqa: F401
import socket
import sys
import threading
import traceback
import types

# The libraries a served drafting process imports (and, with noqa above, the standard library's
# heavier modules it does); nothing of drafting itself, which must come after the fork.
import aiohttp.web  # noqa: F401
import babel.dates  # noqa: F401
import babel.messages.pofile  # noqa: F401
import bleach  # noqa: F401
import cryptography.hazmat.primitives.asymmetric.ed25519  # noqa: F401
import cryptography.hazmat.primitives.serialization  # noqa: F401
import diff_match_patch  # noqa: F401
import docx  # noqa: F401
import engineio.async_drivers.threading  # noqa: F401
import flask  # noqa: F401
import flask_babel  # noqa: F401
import flask_login  # noqa: F401
import flask_mailman  # noqa: F401
import flask_migrate.cli  # noqa: F401
import flask_socketio  # noqa: F401
import flask_sqlalchemy.cli  # noqa: F401
import flask_wtf.csrf  # noqa: F401
import gunicorn.app.wsgiapp
import gunicorn.workers.gthread  # noqa: F401
import jinja2.ext  # noqa: F401
import markdown_it  # noqa: F401
import psycopg  # noqa: F401
import rapidfuzz.distance  # noqa: F401
import redis  # noqa: F401
import regex  # noqa: F401
import simple_websocket  # noqa: F401
import socketio  # noqa: F401
import sqlalchemy.dialects.postgresql  # noqa: F401
import sqlalchemy.dialects.sqlite  # noqa: F401
import sqlalchemy.orm  # noqa: F401
import werkzeug.middleware.proxy_fix  # noqa: F401
import werkzeug.serving  # noqa: F401


def _serve_child(request: dict, out: int, control: socket.socket) -> None:
    """In the forked child: become the server the request asks for; never return.

    On its way out it runs the exit handlers, as that server's own interpreter would (the app's
    process pool is shut down with it, not left holding the output pipe), but skips tearing
    down the libraries: a second or two in a process that has them all imported."""
    code = 1
    try:
        control.close()
        os.setpgid(0, 0)  # signals meant for the nursery (Ctrl+C in pytest's group) are not ours
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.environ.clear()
        os.environ.update(request["env"])
        # Not the nursery as __main__: the app's process pool (spawn) would import it, and with it
        # every library, in each of its workers.
        sys.modules["__main__"] = types.ModuleType("__main__")
        sys.argv = list(request["argv"])
        if request["start"] == "gunicorn":
            gunicorn.app.wsgiapp.run()
        else:
            runpy.run_module(request["argv"][0], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # reported where the test reads the server's output
        traceback.print_exc()
    finally:  # what the interpreter does on exit, in its order: threads, then exit handlers
        threading._shutdown()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    while True:
        try:
            data, fds, _flags, _address = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data)
        if "reap" in request:
            try:
                pid, status = os.waitpid(request["reap"], os.WNOHANG)
                answer = None if pid == 0 else os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                answer = None
            control.send(json.dumps({"status": answer}).encode())
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _serve_child(request, fds[0], control)
        os.close(fds[0])
        control.send(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    main()
