"""The instance's seal on the certificate of adoption: an Ed25519 key, the certificate's canonical
bytes and its signature, and the certificate (or the print view) as a PDF.

A sealed certificate can be checked offline, with the public key alone (docs/verification.md,
scripts/verify_certificate.py): the seal is the Ed25519 signature of `canonical_bytes(cert)`,
the certificate without its `seal` member as UTF-8 JSON with sorted keys, the separators "," and
":" and no ASCII escaping.

The key is one PEM file (PKCS#8, unencrypted, mode 0600): `SEAL_KEY_FILE` (the environment's
`DRAFTING_SEAL_KEY_FILE`), else `seal-ed25519.pem` in the instance folder, made on first use.
Processes racing to make it agree on one key: each writes its own temporary file and links it
into place, and whoever loses reads the winner's. Never commit the file; back it up with the
database (a lost key only means new certificates carry a new public key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from flask_babel import gettext as _

from ..errors import DomainError

ALGORITHM = "Ed25519"
KEY_FILE_NAME = "seal-ed25519.pem"
CANONICAL_FORM = (
    "drafting-certificate-v1: Ed25519 over the UTF-8 bytes of the certificate without its `seal` "
    "member, written as JSON with keys sorted, separators ',' and ':' and no ASCII escaping "
    "(Python: json.dumps(cert, sort_keys=True, separators=(',', ':'), ensure_ascii=False))")


# ---- the key ---------------------------------------------------------------------------------

def key_file() -> Path:
    """Where the app's seal key lives: SEAL_KEY_FILE, else the instance folder."""
    configured = current_app.config.get("SEAL_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / KEY_FILE_NAME


def _create(path: Path) -> None:
    """Write a new key to `path` unless another process did first (then theirs stays)."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic, and refuses to replace a key another process made
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def _load(path: Path) -> Ed25519PrivateKey:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        current_app.logger.warning("The seal key %s is readable by other users: chmod 600 it.", path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"The seal key {path} is not an Ed25519 private key.")
    return key


def private_key() -> Ed25519PrivateKey:
    """Return the app's seal key, made on first use."""
    path = key_file()
    keys = current_app.extensions.setdefault("drafting.seal", {})
    if path not in keys:
        if not path.exists():
            _create(path)
        keys[path] = _load(path)
    return keys[path]


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_bytes() -> bytes:
    """The 32 bytes of the public key (RFC 8032)."""
    return public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_hex() -> str:
    return public_key_bytes().hex()


def public_key_pem() -> str:
    """The public key as PEM (SubjectPublicKeyInfo), as OpenSSL reads it."""
    return public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def fingerprint(raw: bytes | None = None) -> str:
    """SHA-256 of the 32 raw public key bytes, hex: how people compare keys."""
    return hashlib.sha256(public_key_bytes() if raw is None else raw).hexdigest()


def key_summary() -> dict:
    """What the pages show of the instance's key."""
    return {"algorithm": ALGORITHM, "public_key": public_key_hex(), "public_key_pem": public_key_pem(),
            "fingerprint": fingerprint()}


# ---- sealing ---------------------------------------------------------------------------------

def canonical_bytes(cert: dict) -> bytes:
    """The bytes the seal signs: the certificate without `seal`, as canonical UTF-8 JSON."""
    unsealed = {key: value for key, value in cert.items() if key != "seal"}
    return json.dumps(unsealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal(payload: bytes) -> bytes:
    """Sign the bytes with the app's key (64 bytes of Ed25519 signature)."""
    return private_key().sign(payload)


def sealed(cert: dict) -> dict:
    """Return the certificate with its `seal`: algorithm, public key, fingerprint, signature (base64)."""
    signature = seal(canonical_bytes(cert))
    raw = public_key_bytes()
    return {**cert, "seal": {"algorithm": ALGORITHM, "canonical_form": CANONICAL_FORM, "public_key": raw.hex(),
                             "public_key_fingerprint": fingerprint(raw),
                             "signature": base64.b64encode(signature).decode("ascii")}}


# ---- PDF -------------------------------------------------------------------------------------

# WeasyPrint lays out about 150 KB of HTML a second: past this a PDF would hold a server thread for
# half a minute (a text of 1,000 long clauses, which the print view still shows for the browser to print).
MAX_PDF_HTML_CHARS = 4_000_000


class PdfError(DomainError):
    """WeasyPrint's system libraries are missing on this machine, or the text is too long for a PDF."""


def _no_fetching():
    """A WeasyPrint URL fetcher that fetches nothing: the PDFs are made from the page alone."""
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"PDFs of drafting load no external resources ({url[:80]})")

    return NoFetching()


def render_pdf(html: str, stylesheet: str | None = None, attachments: dict[str, bytes] | None = None) -> bytes:
    """Render standalone HTML to PDF with WeasyPrint, optionally embedding files (name -> bytes)."""
    if len(html) > MAX_PDF_HTML_CHARS:
        raise PdfError(413, _("This text is too long to be made into a PDF here: open the print view and "
                              "print it to PDF with your browser."))
    try:
        from weasyprint import CSS, HTML, Attachment
    except (OSError, ImportError) as error:  # Pango or HarfBuzz missing (`make chromium` installs them)
        raise PdfError(503, _("PDFs cannot be made on this server: WeasyPrint's libraries (Pango, "
                              "HarfBuzz, the DejaVu fonts) are not installed.")) from error
    fetcher = _no_fetching()
    document = HTML(string=html, url_fetcher=fetcher)
    sheets = [CSS(string=stylesheet, url_fetcher=fetcher)] if stylesheet else None
    files = [Attachment(string=data, name=name, url_fetcher=fetcher) for name, data in (attachments or {}).items()]
    return document.write_pdf(stylesheets=sheets, attachments=files or None)


# The print view (templates/exchange/document.html) on A4, in fonts that fonts-dejavu-core gives every
# Debian machine, covering the Cyrillic and Latin letters of the participating clusters' languages.
PRINT_VIEW_STYLE = """@page { size: A4; margin: 18mm 18mm 20mm;
  @bottom-right { content: counter(page) " / " counter(pages); font: 8pt "DejaVu Sans"; color: #5b6475; } }
body { font-family: "DejaVu Serif", serif; font-size: 10.5pt; }
.kind, .draft, .record { font-family: "DejaVu Sans", sans-serif; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; white-space: nowrap; word-break: normal; }"""


def print_view_pdf(html: str) -> bytes:
    """Render the standalone print view as an A4 PDF."""
    return render_pdf(html, PRINT_VIEW_STYLE)
