"""document: the head of its audit chain, so that events removed from the end show up

Revision ID: e4a1c9b27f53
Revises: db329820deea
Create Date: 2026-11-23 08:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a1c9b27f53'
down_revision = 'db329820deea'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_head', sa.String(length=64), nullable=True))
    # Existing documents: the head is the hash of their newest event (the chain is ordered by id).
    op.execute(
        "UPDATE document SET audit_head = (SELECT audit_event.hash FROM audit_event "
        "WHERE audit_event.document_id = document.id ORDER BY audit_event.id DESC LIMIT 1)"
    )


def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('audit_head')
