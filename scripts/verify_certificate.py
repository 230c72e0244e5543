#!/usr/bin/env python3
"""Check a certificate of adoption of drafting offline (docs/verification.md explains each step).

    python3 verify_certificate.py CERTIFICATE.json [--key KEY] [--text TEXT]

CERTIFICATE.json is the sealed certificate (the certificate page's "Download sealed JSON", the API's
GET /api/v1/documents/ID/certificate, or the file attached to the certificate's PDF). KEY is the
instance's public key, as its verification page shows it: 64 hex characters or a PEM file. TEXT is
the document as exported: the Markdown download (format=md), or the API's document JSON
(GET /api/v1/documents/ID), which also carries the fields of an action plan's actions. Checks the
Ed25519 seal, the hash chain of the signing's audit events and, given the text, its content hash
and each clause's hash. Exits 0 when all hold, 1 otherwise. Needs Python 3.9+ and `cryptography`.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

END_OF_TEXT = "<!-- drafting: end of the text"  # the Markdown export's marker; the record follows it


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clause_part(scheme, clause):
    """One clause as the content hash covers it. Scheme 1: number, heading, text. Scheme 2 (documents
    with clause kinds): label, kind, heading, text, action fields (compact sorted JSON, or empty)."""
    heading = clause.get("heading") or ""
    if scheme == 1:
        return "\x1f".join((str(clause["number"]), heading, clause["text"]))
    action = clause.get("action")
    fields = json.dumps(action, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if action else ""
    return "\x1f".join((clause.get("label") or "", clause.get("kind") or "", heading, clause["text"], fields))


def content_hash(scheme, title, clauses):
    """The document's hash: its title and its clauses in order, separated by U+001E."""
    parts = [f"drafting-content-v{scheme}", title] + [clause_part(scheme, c) for c in clauses]
    return sha256("\x1e".join(parts))


def event_hash(hashed):
    return sha256(json.dumps(hashed, sort_keys=True, ensure_ascii=False))


def canonical_bytes(cert):
    """What the seal signs: the certificate without `seal`, as sorted, compact, unescaped UTF-8 JSON."""
    unsealed = {key: value for key, value in cert.items() if key != "seal"}
    return json.dumps(unsealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def unescape_angles(text):
    """The export writes "<" as "\\<" (and doubles backslashes before it); undo that."""
    def one(m):
        run = len(m.group(1))
        return "\\" * ((run - 1) // 2) + "<" if run % 2 else m.group(0)
    return re.sub(r"(\\+)<", one, text)


def unescape_line(line):
    """A clause line starting with "#" or "\\" got one more leading backslash in the export."""
    first_after_backslashes = line.lstrip("\\")[:1]
    if len(line) > 1 and line[0] == "\\" and line[1] in "#\\" and first_after_backslashes != "<":
        line = line[1:]
    return unescape_angles(line)


HEADING = re.compile(r"## (?:Preamble|(?:Recital|Article|Action|Section|Annex|Clause) ([0-9A-Z.]+?)|[0-9]+)\.(?: (.*))?")
RECORD = "<!-- drafting: clause "  # the line under a heading with the clause's kind and action fields


def read_markdown(source):
    """Title and clauses of drafting's Markdown export: "# Title", then per clause "## Kind label.
    Heading" ("## Article 2.1. Scope", "## Preamble."; older exports "## N. Heading"), the line
    <!-- drafting: clause {"kind": ..., "action": ...} -->, a blank line, the clause's lines, a blank
    line; the text ends at the end marker. A clause's number is its place in the list."""
    lines = source.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    end = next((i for i, line in enumerate(lines) if line.startswith(END_OF_TEXT)), None)
    if end is None or not lines[0].startswith("# "):
        raise ValueError("this is not a Markdown export of drafting (no title line or no end marker)")
    lines = lines[:end]
    starts = [(i, m) for i, line in enumerate(lines) if (m := HEADING.fullmatch(line))]
    clauses = []
    for k, (i, m) in enumerate(starts):
        body = lines[i + 1:starts[k + 1][0] if k + 1 < len(starts) else len(lines)]
        clause = {"number": k + 1, "heading": unescape_angles(m.group(2)) if m.group(2) else None}
        if body[:1] and body[0].startswith(RECORD) and body[0].endswith(" -->"):
            record = json.loads(body[0][len(RECORD):-4])
            clause.update(label=m.group(1) or "", kind=record["kind"], action=record.get("action"))
            body = body[1:]
        body = body[1:] if body[:1] == [""] else body
        body = body[:-1] if body[-1:] == [""] else body
        clause["text"] = "\n".join(unescape_line(line) for line in body)
        clauses.append(clause)
    return unescape_angles(lines[0][2:]), clauses


def read_text(path):
    """(title, clauses, hash scheme or None) of the Markdown export or the API's document JSON."""
    with open(path, encoding="utf-8", newline="") as handle:
        source = handle.read()
    try:
        data = json.loads(source)
    except ValueError:
        return (*read_markdown(source), None)
    return data["title"], data["clauses"], data.get("hash_scheme", 1)


def read_key(value):
    """32 raw bytes from 64 hex characters or a PEM file."""
    if os.path.exists(value):
        with open(value, "rb") as handle:
            return load_pem_public_key(handle.read()).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return bytes.fromhex(value.strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check a sealed certificate of adoption of drafting offline.")
    parser.add_argument("certificate", help="the sealed certificate, JSON")
    parser.add_argument("--key", help="the instance's public key: 64 hex characters or a PEM file")
    parser.add_argument("--text", help="the document: its Markdown export or the API's document JSON")
    args = parser.parse_args(argv)
    with open(args.certificate, encoding="utf-8") as handle:
        cert = json.load(handle)
    failures = []

    def check(ok, good, bad):
        print(("ok    " + good) if ok else ("FAIL  " + bad))
        if not ok:
            failures.append(bad)

    seal = cert.get("seal") or {}
    try:
        raw = bytes.fromhex(seal["public_key"])
        signature = base64.b64decode(seal["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, canonical_bytes(cert))
        sealed = seal.get("algorithm") == "Ed25519"
    except (KeyError, TypeError, ValueError, InvalidSignature):
        raw, sealed = b"", False
    print_key = hashlib.sha256(raw).hexdigest()
    check(sealed, f"the Ed25519 seal is valid (key fingerprint {print_key})",
          "the seal does not match the certificate: something in it was changed after sealing")
    if args.key:
        check(raw == read_key(args.key), "the seal is made with the key you gave",
              "the seal is made with another key than the one you gave")
    else:
        print(f"note  no --key: compare the fingerprint {print_key} with the instance's verification page")

    events = cert.get("signing_events") or []
    broken = [e.get("id") for i, e in enumerate(events)
              if event_hash(e["hashed"]) != e["hash"] or e["hashed"].get("prev") != e["prev_hash"]
              or (i > 0 and e["prev_hash"] != events[i - 1]["hash"])]
    check(events and not broken, f"the {len(events)} audit events of the signing recompute and chain",
          f"audit events that do not recompute or chain: {broken or 'none listed'}")
    adopted = events[-1]["hashed"] if events else {}
    check(adopted.get("action") == "document.adopted"
          and (adopted.get("details") or {}).get("content_hash") == cert.get("content_hash"),
          "the last event adopts exactly this content hash", "the last event is not the adoption of this hash")
    approved = {e["hashed"]["details"].get("organisation") for e in events if e["action"] == "approval.given"
                and e["hashed"]["details"].get("content_hash") == cert.get("content_hash")}
    missing = [s["organisation"] for s in cert.get("signatories", []) if s["organisation"] not in approved
               or s["content_hash"] != cert.get("content_hash")]
    check(cert.get("signatories") and not missing,
          f"each of the {len(cert.get('signatories', []))} signatories approved this hash in the audit trail",
          f"signatories without an approval of this hash in the audit trail: {missing or 'none listed'}")

    if args.text:
        # The certificate tells the scheme: scheme 2 lists each clause's label and kind.
        scheme = 2 if any("kind" in c for c in cert.get("clauses", [])) else 1
        title, clauses, text_scheme = read_text(args.text)
        if text_scheme is None and scheme == 2 and not all("kind" in c for c in clauses):
            # A Markdown export made before clause kinds were written into it: the labels and kinds
            # the hash also covers come from the (sealed) certificate, position by position.
            print("note  labels and kinds taken from the certificate; action fields assumed empty "
                  "(for an action plan, check the API's document JSON instead)")
            for i, clause in enumerate(clauses[:len(cert["clauses"])]):
                clause.update(label=cert["clauses"][i].get("label"), kind=cert["clauses"][i].get("kind"))
        check(text_scheme in (None, scheme), f"the text and the certificate use hash scheme {scheme}",
              f"the text uses hash scheme {text_scheme}, the certificate scheme {scheme}")
        computed = content_hash(scheme, title, clauses)
        check(computed == cert.get("content_hash"), f"the text's content hash is the certificate's ({computed})",
              f"the text's content hash {computed} is not the certificate's {cert.get('content_hash')}")
        listed = [c["clause_hash"] for c in cert.get("clauses", [])]
        mine = [sha256(clause_part(scheme, c)) for c in clauses]
        differ = [n for n in range(1, max(len(listed), len(mine)) + 1)
                  if listed[n - 1:n] != mine[n - 1:n]]
        check(not differ, f"each of the {len(clauses)} clauses has the hash the certificate lists",
              f"clauses (by position) that differ from the certificate: {differ}")
    print("VERIFIED" if not failures else f"NOT VERIFIED: {len(failures)} check(s) failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
