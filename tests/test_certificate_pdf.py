"""The certificate of adoption as a PDF and as sealed JSON (issue 17, item 6): the instance's Ed25519
seal, its key, the print view as PDF, and the offline check of docs/verification.md run as a script."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pypdf import PdfReader

from drafting.api.openapi import spec
from drafting.config import ROOT
from drafting.extensions import db
from drafting.models import Document, Organisation, User
from drafting.signoff import seal
from tests.conftest import PASSWORD, make_app
from tests.phases import adopt

SCRIPT = ROOT / "scripts" / "verify_certificate.py"

# Clusters and signatories written in their own letters: Bulgarian Cyrillic, Hungarian ő ű,
# Portuguese ã ç, Swedish å ä ö.
CLUSTERS = [
    ("Тракийски клъстер за здравни иновации", "BG", "Пенка Благоева", "penka@trakia.example"),
    ("Győri Egészségügyi Innovációs Klaszter", "HU", "Szőllősi Tűnde", "tunde@gyor.example"),
    ("Associação Saúde Lusitânia", "PT", "João Gonçalves", "joao@lusitania.example"),
    ("Hälsoklustret Östra Småland", "SE", "Åsa Söderström", "asa@smaland.example"),
]
# A clause that exercises every escape of the Markdown export, in the same four languages.
HEADING = "Заключителни разпоредби"
TEXT = ("#hashtag at the start of a line\n\\backslash at the start\n<script>alert(1)</script> and \\<not a tag>\n\n"
        "## 9. not a heading\nŐrült tűz; São Conceição; Ålänningar öppnar; Съгласие\n")


def normal(text: str) -> str:
    """Text as read out of a PDF: runs of whitespace are one space, a line broken after a hyphen joins."""
    return re.sub(r"-\s+", "-", " ".join(text.split()))


def canonical(cert: dict) -> bytes:
    """The signed bytes, written out here from docs/verification.md, not taken from the app."""
    unsealed = {k: v for k, v in cert.items() if k != "seal"}
    return json.dumps(unsealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature_holds(cert: dict, public_key: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(base64.b64decode(cert["seal"]["signature"]),
                                                              canonical(cert))
        return True
    except InvalidSignature:
        return False


def page_key(client, document_id: int) -> tuple[bytes, str]:
    """The public key the verification page shows: hex, and the PEM in its <details>."""
    page = client.get(f"/documents/{document_id}/verify").get_data(as_text=True)
    hex_key = re.search(r'id="seal-public-key">([0-9a-f]{64})<', page).group(1)
    pem = re.search(r"<details[^>]*>\s*<summary>The public key as PEM</summary>\s*<pre[^>]*>"
                    r"(-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----)", page, re.S).group(1)
    return bytes.fromhex(hex_key), pem


def add_clusters_and_adopt(app, api, document_id: int) -> None:
    """Four more participating clusters, each with a signatory, a clause in their languages, then
    every participant signs."""
    with app.app_context():
        for name, country, person, email in CLUSTERS:
            organisation = Organisation(name=name, country=country)
            user = User(email=email, name=person, organisation=organisation)
            user.set_password(PASSWORD)
            db.session.add_all([organisation, user])
        db.session.commit()
    admin = api.as_("admin")
    for name, _, _, email in CLUSTERS:
        assert admin.post(f"/documents/{document_id}/participants", json={"organisation": name}).status_code == 201
        assert admin.post(f"/documents/{document_id}/members",
                          json={"email": email, "role": "signatory"}).status_code == 201
    answer = api.as_("editor").post(f"/documents/{document_id}/clauses", json={"heading": HEADING, "text": TEXT})
    assert answer.status_code == 201, answer.get_json()
    adopt(app, api, document_id)


@pytest.fixture
def adopted(app, api, client, auth, declaration) -> int:
    """The Joint Declaration adopted by eleven clusters, four of them named in their own letters;
    the observer logged in."""
    add_clusters_and_adopt(app, api, declaration["id"])
    auth.login("observer")
    return declaration["id"]


# ---- the PDF ----------------------------------------------------------------------------------

def test_the_certificate_pdf(client, api, adopted):
    answer = client.get(f"/documents/{adopted}/certificate?format=pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf" and answer.data.startswith(b"%PDF-")
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+-certificate-\d{4}-\d{2}-\d{2}\.pdf"',
                        answer.headers["Content-Disposition"])
    reader = PdfReader(io.BytesIO(answer.data))
    # The sealed JSON travels inside the PDF; it is the certificate the pages show.
    (name, [attached]), = reader.attachments.items()
    assert re.fullmatch(r"[a-z0-9-]+-certificate-\d{4}-\d{2}-\d{2}\.json", name)
    cert = json.loads(attached)
    public_key, _ = page_key(client, adopted)
    assert cert["seal"]["public_key"] == public_key.hex() and signature_holds(cert, public_key)
    assert cert["content_hash"] == api.as_("observer").get(f"/documents/{adopted}").get_json()["content_hash"]

    first = normal(reader.pages[0].extract_text())
    rest = normal(" ".join(page.extract_text() for page in reader.pages[1:]))
    # Page 1: the document, its hash, every cluster with its signatory and time, the seal.
    for text in ("Certificate of adoption", "Joint Declaration", normal(cert["document"]["title"]),
                 cert["document"]["adopted_at"].replace("T", " ").replace("Z", " UTC"), cert["content_hash"],
                 cert["seal"]["public_key_fingerprint"], cert["seal"]["signature"]):
        assert text in first, text
    assert len(cert["signatories"]) == 11
    for signatory in cert["signatories"]:
        row = normal(f"{signatory['organisation']} {signatory['country']} {signatory['signatory']} "
                     f"{signatory['signed_at'].replace('T', ' ').replace('Z', ' UTC')}")
        assert row in first, row
    for name, _, person, _ in CLUSTERS:
        assert normal(name) in first and person in first
    # The annex starts on a page of its own.
    assert "annex" not in first.lower() and rest.lower().startswith("annex")
    assert not any(clause["clause_hash"] in first for clause in cert["clauses"])
    # The annex: each clause's number, heading and hash, and the audit chain's head.
    # (A heading wrapped in its cell may be read out around the hash beside it: compare without hashes.)
    words = normal(re.sub(r"\b[0-9a-f]{64}\b", " ", rest))
    for clause in cert["clauses"]:  # a document with clause kinds lists each one's label and kind
        row = (f"{clause['label']} {clause['kind']} " if "kind" in clause else f"{clause['number']} ")
        assert normal(row + (clause["heading"] or "—")) in words and clause["clause_hash"] in rest
    assert HEADING in rest and cert["audit_chain"]["head"] in rest
    assert cert["signing_events"][-1]["hash"] in rest
    # The letters are drawn with DejaVu, embedded, not with whatever fallback the machine has.
    fonts = {str(font["/BaseFont"]) for page in reader.pages
             for font in (f.get_object() for f in page["/Resources"]["/Font"].values())}
    assert fonts and all("DejaVu" in font for font in fonts), fonts


def test_the_print_view_as_pdf(client, api, adopted):
    content_hash = api.as_("observer").get(f"/documents/{adopted}").get_json()["content_hash"]
    answer = client.get(f"/documents/{adopted}/export?format=pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf" and answer.data.startswith(b"%PDF-")
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+-adopted-\d{4}-\d{2}-\d{2}\.pdf"',
                        answer.headers["Content-Disposition"])
    text = normal(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages))
    assert HEADING in text and "Őrült tűz; São Conceição; Ålänningar öppnar; Съгласие" in text
    assert "<script>alert(1)</script>" in text  # the clause's own text, shown, not run
    assert content_hash in text and "Adoption record" in text
    for name, _, person, _ in CLUSTERS:
        assert normal(name) in text and person in text


def test_the_print_view_pdf_of_a_draft(client, auth, declaration):
    auth.login("commenter")
    answer = client.get(f"/documents/{declaration['id']}/export?format=pdf")
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF-")
    assert "Draft, not adopted" in PdfReader(io.BytesIO(answer.data)).pages[0].extract_text()


def test_a_text_too_long_for_a_pdf_is_refused(client, auth, declaration, monkeypatch):
    monkeypatch.setattr(seal, "MAX_PDF_HTML_CHARS", 1000)
    auth.login("commenter")
    answer = client.get(f"/documents/{declaration['id']}/export?format=pdf")
    assert answer.status_code == 413 and "print it to PDF with your browser" in answer.get_data(as_text=True)


def test_without_weasyprint_s_libraries_the_pdf_is_503(client, auth, declaration, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as when Pango cannot be loaded
    auth.login("commenter")
    answer = client.get(f"/documents/{declaration['id']}/export?format=pdf")
    assert answer.status_code == 503 and "PDFs cannot be made on this server" in answer.get_data(as_text=True)


def test_no_certificate_before_adoption(client, auth, api, declaration):
    auth.login("observer")
    for suffix in ("", "?format=pdf", "?format=json", "?format=md"):
        answer = client.get(f"/documents/{declaration['id']}/certificate{suffix}")
        assert answer.status_code == 409, suffix
        assert not answer.data.startswith(b"%PDF") and "not adopted yet" in answer.get_data(as_text=True)
    assert api.as_("observer").get(f"/documents/{declaration['id']}/certificate").status_code == 409


# ---- the seal -----------------------------------------------------------------------------------

def test_the_sealed_json_verifies_with_the_key_on_the_verify_page(client, api, adopted):
    public_key, pem = page_key(client, adopted)
    from_pem = serialization.load_pem_public_key(pem.encode()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert from_pem == public_key
    answer = client.get(f"/documents/{adopted}/certificate?format=json")
    assert answer.mimetype == "application/json" and answer.headers["Content-Disposition"].startswith("attachment;")
    cert = json.loads(answer.data)
    assert cert["seal"]["algorithm"] == "Ed25519" and cert["seal"]["public_key"] == public_key.hex()
    assert cert["seal"]["public_key_fingerprint"] == hashlib.sha256(public_key).hexdigest()
    assert len(base64.b64decode(cert["seal"]["signature"], validate=True)) == 64
    assert signature_holds(cert, public_key)
    # The JSON keeps names as they are written; the seal covers them.
    assert "Szőllősi Tűnde" in answer.get_data(as_text=True)
    # Changing any one field breaks the seal.
    for change in (lambda c: c["signatories"][0].update(signatory="Someone Else"),
                   lambda c: c["clauses"][-1].update(clause_hash="0" * 64),
                   lambda c: c["document"].update(title=c["document"]["title"] + "."),
                   lambda c: c.update(issued_at="2020-01-01T00:00:00Z"),
                   lambda c: c["signatories"].pop()):
        changed = json.loads(answer.data)
        change(changed)
        assert not signature_holds(changed, public_key)
    # Another key does not verify it.
    other = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                   serialization.PublicFormat.Raw)
    assert not signature_holds(cert, other)
    # The API's certificate carries the same seal, as the OpenAPI description says.
    by_api = api.as_("observer").get(f"/documents/{adopted}/certificate").get_json()
    assert by_api["seal"]["public_key"] == public_key.hex() and signature_holds(by_api, public_key)
    described = spec()["components"]["schemas"]["Certificate"]
    assert "seal" in described["required"]
    fields = described["properties"]["seal"]
    assert set(fields["required"]) <= set(by_api["seal"]) and set(by_api["seal"]) == set(fields["properties"])
    for name, value in by_api["seal"].items():
        pattern = fields["properties"][name].get("pattern")
        assert pattern is None or re.search(pattern, value), name
    assert by_api["seal"]["algorithm"] in fields["properties"]["algorithm"]["enum"]


def test_the_audit_event_hash_needs_ensure_ascii_false(client, adopted):
    """docs/verification.md: the event hash is JSON with sorted keys, default separators and the
    letters as themselves; with ASCII escapes a Hungarian name gives another hash."""
    cert = json.loads(client.get(f"/documents/{adopted}/certificate?format=json").data)
    event = next(e for e in cert["signing_events"] if e["hashed"]["details"].get("signatory") == "Szőllősi Tűnde")

    def digest(**options) -> str:
        return hashlib.sha256(json.dumps(event["hashed"], sort_keys=True, **options).encode("utf-8")).hexdigest()

    assert digest(ensure_ascii=False) == event["hash"]
    assert digest(ensure_ascii=True) != event["hash"]
    assert digest(ensure_ascii=False, separators=(",", ":")) != event["hash"]


def test_the_pages_link_the_downloads_and_show_the_key(client, adopted):
    page = client.get(f"/documents/{adopted}/certificate").get_data(as_text=True)
    assert re.search(rf'href="/documents/{adopted}/certificate\?format=pdf"[^>]*>Download PDF<', page)
    assert re.search(rf'href="/documents/{adopted}/certificate\?format=json"[^>]*>Download sealed JSON<', page)
    public_key, pem = page_key(client, adopted)
    assert hashlib.sha256(public_key).hexdigest() in page
    verify = client.get(f"/documents/{adopted}/verify").get_data(as_text=True)
    assert "docs/verification.md" in verify and "How to verify offline" in verify
    assert "style=" not in verify and "style=" not in page  # the CSP allows no inline style
    assert pem in verify and f"--key {public_key.hex()}" in verify
    # The script shown to copy is the one of docs/verification.md, escaped as text.
    assert "def canonical_bytes(cert):" in verify and "&lt;!-- drafting: end of the text" in verify


def test_the_key_persists_across_restarts(database, tmp_path):
    def key_of(instance: Path, **settings) -> tuple[str, str]:
        app = make_app(database, **{"SEAL_KEY_FILE": None, **settings})
        app.instance_path = str(instance)
        with app.app_context():
            return seal.public_key_hex(), str(seal.key_file())

    first, where = key_of(tmp_path / "instance")
    assert where == str(tmp_path / "instance" / "seal-ed25519.pem")
    assert stat.S_IMODE(os.stat(where).st_mode) == 0o600
    assert Path(where).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key_of(tmp_path / "instance") == (first, where)      # a restart: the same key
    assert key_of(tmp_path / "other")[0] != first               # another instance: another key
    elsewhere = tmp_path / "keys" / "seal.pem"
    assert key_of(tmp_path / "instance", SEAL_KEY_FILE=str(elsewhere)) == (
        key_of(tmp_path / "third", SEAL_KEY_FILE=str(elsewhere))[0], str(elsewhere))
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == ["seal-ed25519.pem"]


def test_processes_racing_to_make_the_key_agree(tmp_path):
    path = tmp_path / "seal.pem"
    start, seen = threading.Barrier(8), []

    def make() -> None:
        start.wait()
        seal._create(path)
        seen.append(path.read_bytes())

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["seal.pem"]


# ---- the offline check ------------------------------------------------------------------------

def run_script(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=60, env={"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"})


@pytest.mark.parametrize("scheme", [1, 2])
def test_the_script_verifies_offline_and_finds_any_change(app, client, api, auth, declaration, tmp_path, scheme):
    # Scheme 1: documents made before clause kinds; scheme 2: label, kind and action fields too.
    with app.app_context():
        db.session.get(Document, declaration["id"]).hash_scheme = scheme
        db.session.commit()
    add_clusters_and_adopt(app, api, declaration["id"])
    auth.login("observer")
    adopted = declaration["id"]
    public_key, pem = page_key(client, adopted)
    cert_file, text_file, json_file, pem_file = (tmp_path / name for name in
                                                 ("certificate.json", "document.md", "document.json", "key.pem"))
    cert_file.write_bytes(client.get(f"/documents/{adopted}/certificate?format=json").data)
    text_file.write_bytes(client.get(f"/documents/{adopted}/export?format=md").data)
    json_file.write_bytes(api.as_("observer").get(f"/documents/{adopted}").data)
    pem_file.write_text(pem)
    assert HEADING in text_file.read_text(encoding="utf-8")
    assert json.loads(json_file.read_bytes())["hash_scheme"] == scheme
    assert ("kind" in json.loads(cert_file.read_bytes())["clauses"][0]) == (scheme == 2)

    for key in (public_key.hex(), pem_file):
        for text in (text_file, json_file):
            done = run_script(cert_file, "--key", key, "--text", text)
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.rstrip().endswith("VERIFIED") and "FAIL" not in done.stdout
            assert "each of the 34 clauses has the hash the certificate lists" in done.stdout
            assert "each of the 11 signatories approved this hash" in done.stdout

    # One changed byte in the text: "Ő" (C5 90) becomes "Ő"'s neighbour "ő" (C5 91) in the last clause.
    data = text_file.read_bytes()
    at = data.index("Őrült".encode())
    changed = tmp_path / "changed.md"
    changed.write_bytes(data[:at + 1] + bytes([data[at + 1] + 1]) + data[at + 2:])
    done = run_script(cert_file, "--key", public_key.hex(), "--text", changed)
    assert done.returncode == 1 and "NOT VERIFIED" in done.stdout
    assert "FAIL  the text's content hash" in done.stdout and "clauses (by position) that differ from the certificate: [34]" in done.stdout

    cert = json.loads(cert_file.read_bytes())

    def tampered(name: str, change) -> Path:
        copy = json.loads(json.dumps(cert))
        change(copy)
        path = tmp_path / name
        path.write_text(json.dumps(copy, indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def forge(c):  # one bit of the signature flipped
        raw = bytearray(base64.b64decode(c["seal"]["signature"]))
        raw[10] ^= 1
        c["seal"]["signature"] = base64.b64encode(bytes(raw)).decode()

    forged = tampered("forged.json", forge)
    done = run_script(forged, "--key", public_key.hex())
    assert done.returncode == 1 and "FAIL  the seal does not match the certificate" in done.stdout

    renamed = tampered("renamed.json", lambda c: c["signatories"][1].update(signatory="Someone Else"))
    done = run_script(renamed, "--key", public_key.hex(), "--text", text_file)
    assert done.returncode == 1 and "FAIL  the seal does not match" in done.stdout

    # A certificate re-sealed by someone else's key: valid in itself, refused against the instance's key.
    impostor = Ed25519PrivateKey.generate()

    def reseal(c):
        c["signatories"][1]["signatory"] = "Someone Else"
        raw = impostor.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        c["seal"].update(public_key=raw.hex(), public_key_fingerprint=hashlib.sha256(raw).hexdigest(),
                         signature=base64.b64encode(impostor.sign(canonical(c))).decode())

    resealed = tampered("resealed.json", reseal)
    done = run_script(resealed, "--key", public_key.hex())
    assert done.returncode == 1 and "FAIL  the seal is made with another key" in done.stdout
    assert "ok    the Ed25519 seal is valid" in done.stdout
    alone = run_script(resealed)
    assert "note  no --key" in alone.stdout  # without the key, the script says what it could not check

    # An altered audit event in an otherwise re-sealed certificate is caught by its hash.
    def alter_event(c):
        c["signing_events"][2]["hashed"]["details"]["content_hash"] = "0" * 64
        c["seal"]["signature"] = base64.b64encode(impostor.sign(canonical(c))).decode()
        raw = impostor.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        c["seal"]["public_key"] = raw.hex()

    done = run_script(tampered("event.json", alter_event))
    assert done.returncode == 1 and "FAIL  audit events that do not recompute or chain: [" in done.stdout


def test_the_docs_carry_the_script_verbatim():
    docs = (ROOT / "docs" / "verification.md").read_text(encoding="utf-8")
    listed = docs.rsplit("```python\n", 1)[1].split("```", 1)[0]
    assert listed == SCRIPT.read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/verification.md)" in readme and "(verification.md)" in (ROOT / "docs" / "security.md").read_text()
