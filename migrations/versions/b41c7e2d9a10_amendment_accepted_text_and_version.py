"""amendment: the accepted text and the clause version it became

Revision ID: b41c7e2d9a10
Revises: 6fe2af1393e0
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b41c7e2d9a10'
down_revision = '6fe2af1393e0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('accepted_version', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_column('accepted_version')
        batch_op.drop_column('accepted_text')
