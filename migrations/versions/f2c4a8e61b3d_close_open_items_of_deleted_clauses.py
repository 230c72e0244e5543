"""close open items of deleted clauses: threads and amendments left open on a clause deleted
before deleting closed them are closed as "clause deleted", as a deletion does now

Before issue 13 a clause's deletion left its open threads and amendments open for ever (404 on
every action, "open" in the report). They are closed as the application closes them when a clause
is deleted (consultation.closing.close_items_of_deleted_clause): disposition or status
`clause_deleted`, the same reason, at the time the clause was deleted, by whoever deleted it (the
last `clause.deleted` audit event of the clause, if any). Restoring the clause opens them again.
No audit event is written: a migration is no one's action, and the audit chains stay intact.

The downgrade leaves them closed: nothing tells them apart from the items a deletion closed.

Revision ID: f2c4a8e61b3d
Revises: b5d1f0a7c3e2
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2c4a8e61b3d'
down_revision = 'b5d1f0a7c3e2'
branch_labels = None
depends_on = None

# consultation.closing.CLAUSE_DELETED_REASON, as stored (in English; the report translates it).
CLAUSE_DELETED_REASON = "The clause was deleted."

DELETED_CLAUSES = "SELECT clause.id FROM clause WHERE clause.deleted_at IS NOT NULL"
DELETED_AT = "(SELECT clause.deleted_at FROM clause WHERE clause.id = {table}.clause_id)"
DELETED_BY = ("(SELECT audit_event.actor_id FROM audit_event WHERE audit_event.action = 'clause.deleted' "
              "AND audit_event.clause_id = {table}.clause_id ORDER BY audit_event.id DESC LIMIT 1)")


def upgrade():
    reason = {"reason": CLAUSE_DELETED_REASON}
    op.get_bind().execute(sa.text(
        "UPDATE thread SET status = 'resolved', disposition = 'clause_deleted', reason = :reason, "
        f"resolved_at = {DELETED_AT.format(table='thread')}, resolved_by_id = {DELETED_BY.format(table='thread')} "
        f"WHERE status = 'open' AND clause_id IN ({DELETED_CLAUSES})"), reason)
    op.get_bind().execute(sa.text(
        "UPDATE amendment SET status = 'clause_deleted', reason = :reason, "
        f"decided_at = {DELETED_AT.format(table='amendment')}, "
        f"decided_by_id = {DELETED_BY.format(table='amendment')} "
        f"WHERE status = 'open' AND clause_id IN ({DELETED_CLAUSES})"), reason)


def downgrade():
    pass
