"""Login throttling nobody can turn against an account's owner, the client's address behind a
trusted proxy, the same work for unknown e-mails, and a CSRF token renewed at login (issue 16).
Over HTTP, from several client addresses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

from drafting.auth import routes as auth_routes
from tests.conftest import EMAILS, PASSWORD, make_app

ROOT = Path(__file__).resolve().parents[1]


def login(client, email: str, password: str, address: str = "198.51.100.7", **headers):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_a_stranger_guessing_cannot_lock_the_owner_out(client):
    for _ in range(5):
        assert login(client, EMAILS["editor"], "guess", address="203.0.113.66").status_code == 401
    assert login(client, EMAILS["editor"], PASSWORD, address="203.0.113.66").status_code == 429  # the guesser waits
    assert login(client, EMAILS["editor"], PASSWORD, address="198.51.100.7").status_code == 302  # the owner does not


def test_one_address_trying_many_accounts_is_capped(client):
    for n in range(20):
        assert login(client, f"someone{n}@example.org", "guess", address="203.0.113.9").status_code == 401
    blocked = login(client, EMAILS["observer"], PASSWORD, address="203.0.113.9")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert login(client, EMAILS["observer"], PASSWORD, address="198.51.100.8").status_code == 302


def test_behind_a_trusted_proxy_each_client_counts_alone(database):
    client = make_app(database, TRUSTED_PROXIES=1).test_client()
    for _ in range(5):
        answer = login(client, EMAILS["editor"], "guess", address="10.0.0.2", **{"X-Forwarded-For": "203.0.113.66"})
        assert answer.status_code == 401
    # Everyone comes through the same proxy (10.0.0.2); only the guesser is held back.
    assert login(client, EMAILS["editor"], PASSWORD, address="10.0.0.2",
                 **{"X-Forwarded-For": "203.0.113.66"}).status_code == 429
    assert login(client, EMAILS["editor"], PASSWORD, address="10.0.0.2",
                 **{"X-Forwarded-For": "198.51.100.7"}).status_code == 302


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(client):
    for n in range(5):  # a guesser rotating a forged header is still one address
        login(client, EMAILS["editor"], "guess", address="203.0.113.66", **{"X-Forwarded-For": f"192.0.2.{n}"})
    assert login(client, EMAILS["editor"], PASSWORD, address="203.0.113.66",
                 **{"X-Forwarded-For": "192.0.2.200"}).status_code == 429


def test_an_unknown_email_costs_a_password_check_like_a_known_one(client):
    with mock.patch.object(auth_routes, "check_password_hash", wraps=auth_routes.check_password_hash) as checked:
        answer = login(client, "nobody-here@example.org", "guess")
    assert answer.status_code == 401 and checked.call_count == 1
    assert "That email and password do not match an account." in answer.get_data(as_text=True)
    # ... against a hash made the accounts' way (a cheaper one would tell unknown e-mails by time).
    method = client.application.config["PASSWORD_HASH_METHOD"]
    assert checked.call_args.args[0].startswith(method + "$")


def test_served_apps_hash_passwords_with_scrypt_whatever_the_environment_says():
    # TestConfig's cheap method is for the suite's throwaway accounts only; Config reads none.
    made = subprocess.run([sys.executable, "-c", "from werkzeug.security import generate_password_hash; "
                           "from drafting.config import Config; "
                           "print(generate_password_hash('x', Config.PASSWORD_HASH_METHOD))"],
                          env={**os.environ, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"}, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert made.stdout.startswith("scrypt:")


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_csrf_token_is_renewed_at_login(database):
    client = make_app(database, WTF_CSRF_ENABLED=True).test_client()
    before = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"email": EMAILS["editor"], "password": PASSWORD, "csrf_token": before})
    assert answer.status_code == 302
    after = csrf_of(client.get("/documents").get_data(as_text=True))
    assert after != before
    # The token from before the login no longer passes; the new one does.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302
