"""languages: each person's interface language and time zone, each document's authentic language,
and clause-aligned translations (with their revisions), pinned to the source version they translate

Existing documents are in English (their authentic language); people follow their browser's
language and see UTC until they choose otherwise.

Revision ID: b5d1f0a7c3e2
Revises: a7c3e9d14b52
Create Date: 2026-11-30 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d1f0a7c3e2'
down_revision = 'a7c3e9d14b52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('document') as batch:
        batch.add_column(sa.Column('language', sa.String(length=10), nullable=False, server_default='en'))
        batch.add_column(sa.Column('title_translations', sa.JSON(), nullable=True))
    op.create_table(
        'clause_translation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clause_id', sa.Integer(), nullable=False),
        sa.Column('lang', sa.String(length=10), nullable=False),
        sa.Column('heading', sa.String(length=300), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('source_version', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['clause_id'], ['clause.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('clause_id', 'lang'),
    )
    with op.batch_alter_table('clause_translation') as batch:
        batch.create_index('ix_clause_translation_clause_id', ['clause_id'], unique=False)
    op.create_table(
        'translation_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('translation_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('heading', sa.String(length=300), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('source_version', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['translation_id'], ['clause_translation.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('translation_id', 'version'),
    )


def downgrade():
    op.drop_table('translation_revision')
    with op.batch_alter_table('clause_translation') as batch:
        batch.drop_index('ix_clause_translation_clause_id')
    op.drop_table('clause_translation')
    with op.batch_alter_table('document') as batch:
        batch.drop_column('title_translations')
        batch.drop_column('language')
    with op.batch_alter_table('user') as batch:
        batch.drop_column('timezone')
        batch.drop_column('locale')
