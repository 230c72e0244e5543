"""clauses: live clauses have unique positions in their document (a partial unique index)

Races between reorders, creates and deletes could leave duplicate positions; they are numbered
again first, in their current reading order (position, then id), so the index can be made.

Revision ID: 8d3f6a1c2e90
Revises: 5b8e41c0d2a7
Create Date: 2026-11-30 03:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d3f6a1c2e90'
down_revision = '5b8e41c0d2a7'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, document_id, position FROM clause WHERE deleted_at IS NULL ORDER BY document_id, position, id"
    )).all()
    expected, fixes = {}, []
    for clause_id, document_id, position in rows:
        expected[document_id] = expected.get(document_id, 0) + 1
        if position != expected[document_id]:
            fixes.append((clause_id, expected[document_id]))
    for clause_id, _ in fixes:  # step aside first, so no two live clauses share a place meanwhile
        bind.execute(sa.text("UPDATE clause SET position = :p WHERE id = :id"), {"p": -clause_id, "id": clause_id})
    for clause_id, position in fixes:
        bind.execute(sa.text("UPDATE clause SET position = :p WHERE id = :id"), {"p": position, "id": clause_id})
    op.create_index('uq_clause_live_position', 'clause', ['document_id', 'position'], unique=True,
                    sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade():
    op.drop_index('uq_clause_live_position', table_name='clause')
