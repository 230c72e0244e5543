"""Diff of two 20,000-character revisions, and comparison of two named versions of a 500-clause document.

Targets (issue 4): a diff under 20 ms; a compare of two 500-clause snapshots under 300 ms.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from .common import machine, machine_markdown, percentile

TITLE = "Clause diffs and snapshot comparison (history)"
NAME = "history"

WORDS = ("health data access bodies cross-border research permit clusters hospitals registries "
         "interoperability FHIR openEHR consent secondary use citizens trust innovation SMEs "
         "regulatory sandbox reimbursement pathway evidence patients capacity coordination "
         "early warning surveillance the of and to in for with by on at a an").split()


def _text(rng: random.Random, chars: int) -> str:
    out, size = [], 0
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."
        sep = "\n\n" if rng.random() < 0.15 else " "
        out.append(sentence + sep)
        size += len(sentence) + len(sep)
    return "".join(out)[:chars]


def _edit(rng: random.Random, text: str, fraction: float) -> str:
    words = text.split(" ")
    editable = [i for i, word in enumerate(words) if "\n" not in word]  # edits keep the paragraphs
    for index in rng.sample(editable, int(len(words) * fraction)):
        words[index] = rng.choice(WORDS).upper()
    return " ".join(words)


def _timed(call, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def _row(label: str, samples: list[float], target: float | None) -> str:
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    verdict = "" if target is None else ("met" if p95 < target else "**missed**")
    return (f"| {label} | {len(samples)} | {p50:.1f} | {p95:.1f} | {max(samples):.1f} | "
            f"{'' if target is None else f'< {target:.0f}'} | {verdict} |")


def diff_rows(repeats: int) -> list[str]:
    from drafting.text.diffing import diff_html, diff_ops
    from drafting.text.merge import merge_texts

    rng = random.Random(4)
    rows = []
    for fraction, label in ((0.02, "2% of words changed"), (0.2, "20% of words changed")):
        old = _text(rng, 20_000)
        new = _edit(rng, old, fraction)
        rows.append(_row(f"diff + HTML, 20,000 chars, {label}", _timed(lambda o=old, n=new: diff_html(diff_ops(o, n)),
                                                                        repeats), 20))
    rewrite_old, rewrite_new = _text(rng, 20_000), _text(rng, 20_000)
    rows.append(_row("diff + HTML, 20,000 chars, total rewrite", _timed(
        lambda: diff_html(diff_ops(rewrite_old, rewrite_new)), max(3, repeats // 10)), None))
    base = _text(rng, 20_000)
    mine, theirs = _edit(rng, base[:9000], 0.02) + base[9000:], base[:11000] + _edit(rng, base[11000:], 0.02)
    rows.append(_row("three-way merge, 20,000 chars, separate edits", _timed(
        lambda: merge_texts(base, mine, theirs), repeats), None))
    return rows


def compare_rows(repeats: int) -> list[str]:
    from flask_migrate import upgrade

    from drafting.app import create_app
    from drafting.clauses.operations import create_clause, delete_clause, reorder_clauses, save_clause
    from drafting.config import TestConfig
    from drafting.documents.operations import create_document
    from drafting.extensions import db
    from drafting.history.operations import compare, create_snapshot, current_side, snapshot_side
    from drafting.models import Organisation, User

    rng = random.Random(9)
    workdir = Path(tempfile.mkdtemp(prefix="bench-history-"))
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'b.db'}", WTF_CSRF_ENABLED=False)
    with app.app_context():
        upgrade()
        org = Organisation(name="Bench Cluster", country="SE")
        user = User(email="bench@drafting.example", name="Bench", organisation=org, is_admin=True)
        user.set_password("bench-password")
        db.session.add_all([org, user])
        document = create_document(user, "A 500-clause document", "action_plan")
        for _ in range(500):
            create_clause(document, user, _text(rng, rng.randint(300, 1500)), "Action")
        db.session.commit()
        first = create_snapshot(document, user, "Consultation draft")
        clauses = list(document.clauses)
        for clause in rng.sample(clauses, 60):                       # 60 changed
            save_clause(clause, user, _edit(rng, clause.text, 0.1), clause.version)
        for clause in rng.sample(clauses, 10):                       # 10 removed
            if clause.deleted_at is None:
                delete_clause(clause, user)
        for _ in range(10):                                          # 10 added
            create_clause(document, user, _text(rng, 600), "New action")
        db.session.commit()
        db.session.expire_all()
        order = [c.id for c in document.clauses]
        for _ in range(10):                                          # 10 moved
            order.insert(rng.randrange(len(order)), order.pop(rng.randrange(len(order))))
        reorder_clauses(document, user, order)
        db.session.commit()
        second = create_snapshot(document, user, "Final text")
        db.session.commit()
        summary = compare(snapshot_side(first), snapshot_side(second)).summary

        def run_compare():
            db.session.expire_all()
            compare(snapshot_side(db.session.get(type(first), first.id)),
                    snapshot_side(db.session.get(type(second), second.id)))

        def run_current():
            db.session.expire_all()
            compare(snapshot_side(db.session.get(type(first), first.id)), current_side(document))

        rows = [_row("compare two snapshots, 500 clauses (model)", _timed(run_compare, repeats), 300),
                _row("compare snapshot with current text, 500 clauses (model)", _timed(run_current, repeats), 300)]
        client = app.test_client()
        url = f"/documents/{document.id}/compare?from={first.id}&to={second.id}"
    client.post("/login", data={"email": "bench@drafting.example", "password": "bench-password"})
    assert client.get(url).status_code == 200
    rows.append(_row("compare page over HTTP (render included), 500 clauses", _timed(lambda: client.get(url), repeats),
                     None))
    return rows, summary


def add_arguments(parser) -> None:
    parser.add_argument("--history-repeats", type=int, default=30, help="timed repeats per history measurement")


def run(options) -> str:
    facts = machine()
    repeats = options.history_repeats
    diffs = diff_rows(repeats)
    compares, summary = compare_rows(max(5, repeats // 3))
    header = ["| measurement | runs | p50 ms | p95 ms | max ms | target ms | |", "|---|---|---|---|---|---|---|"]
    table = "\n".join(header + diffs + compares)
    print(table)
    return f"""{machine_markdown(facts)}
- Command: `{options.command}`

Method: the diff is `drafting.text.diffing.diff_ops` (word-level diff-match-patch with semantic
cleanup) plus `diff_html` (escaped `<ins>`/`<del>` markup), on random prose of 20,000 characters
with a share of its words replaced. The comparison builds a 500-clause document in a fresh SQLite
database through the real operations, takes a named version, then changes 60 clauses, removes
10, adds 10 and moves 10 ({summary}), takes a second one, and times
`drafting.history.operations.compare` (loading every needed revision in batched queries, the
longest-common-order move detection and the word diffs of the changed clauses), and the whole
compare page over the Flask test client.

{table}
"""
