"""rule versions keep the YAML text as written, comments and all, for the rules editor

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('rule_versions', sa.Column('text', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rule_versions') as batch:
        batch.drop_column('text')
