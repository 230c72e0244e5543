"""clauses: a kind (preamble, recital, article, action, section, annex) and, for an action, its
structured fields, both versioned in the revisions; documents: the content-hash scheme

Existing clauses become articles (actions in a plan), which number exactly as before (1..n), and
existing documents keep content-hash scheme 1 (number, heading, text), so every approval and
certificate given so far still verifies. New documents use scheme 2, which hashes kinds, labels
and action fields too (docs/verification.md).

Revision ID: a7c3e9d14b52
Revises: 8d3f6a1c2e90
Create Date: 2026-11-30 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9d14b52'
down_revision = '8d3f6a1c2e90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clause') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='article'))
        batch.add_column(sa.Column('action', sa.JSON(), nullable=True))
    with op.batch_alter_table('clause_revision') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='article'))
        batch.add_column(sa.Column('action', sa.JSON(), nullable=True))
    with op.batch_alter_table('document') as batch:
        batch.add_column(sa.Column('hash_scheme', sa.Integer(), nullable=False, server_default='1'))
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE clause SET kind = 'action' WHERE document_id IN "
                         "(SELECT id FROM document WHERE kind = 'plan')"))
    bind.execute(sa.text("UPDATE clause_revision SET kind = 'action' WHERE clause_id IN (SELECT clause.id FROM "
                         "clause JOIN document ON document.id = clause.document_id WHERE document.kind = 'plan')"))


def downgrade():
    with op.batch_alter_table('document') as batch:
        batch.drop_column('hash_scheme')
    with op.batch_alter_table('clause_revision') as batch:
        batch.drop_column('action')
        batch.drop_column('kind')
    with op.batch_alter_table('clause') as batch:
        batch.drop_column('action')
        batch.drop_column('kind')
