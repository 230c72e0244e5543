"""sign-off: failed password re-entries (rate limit) and one valid approval per organisation

Revision ID: c7d2e5f81a34
Revises: b41c7e2d9a10
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d2e5f81a34'
down_revision = 'b41c7e2d9a10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('password_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('password_failure', schema=None) as batch_op:
        batch_op.create_index('ix_password_failure_user_created', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.create_index('uq_approval_valid_organisation', ['document_id', 'organisation_id'], unique=True,
                              sqlite_where=sa.text('valid'), postgresql_where=sa.text('valid'))


def downgrade():
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.drop_index('uq_approval_valid_organisation')

    with op.batch_alter_table('password_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_password_failure_user_created')

    op.drop_table('password_failure')
