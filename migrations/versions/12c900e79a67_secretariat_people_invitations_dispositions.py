"""secretariat: deactivated users, invitations, withdrawn participants, thread dispositions, contribution deadline and withdrawal, snapshot origin

Revision ID: 12c900e79a67
Revises: e4a1c9b27f53
Create Date: 2026-11-29 23:46:51.775822

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '12c900e79a67'
down_revision = 'e4a1c9b27f53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_document_id'), ['document_id'], unique=False)

    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contributions_deadline', sa.DateTime(), nullable=True))

    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=20), nullable=False,
                                      server_default='manual'))

    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disposition', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
    # Threads resolved before dispositions existed: noted, and the report says so.
    op.execute("UPDATE thread SET disposition = 'noted', reason = 'Resolved before dispositions were "
               "recorded.' WHERE status = 'resolved'")

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')

    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.drop_column('reason')
        batch_op.drop_column('disposition')

    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_column('origin')

    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_at')

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('contributions_deadline')

    with op.batch_alter_table('contribution', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_document_id'))

    op.drop_table('invitation')
