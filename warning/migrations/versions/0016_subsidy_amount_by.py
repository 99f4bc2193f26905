"""subsidies: which index's rise set the amount

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:00:00

When the CPI and the food CPI both start the mechanism, the amount follows the higher rise; the
decision now records which index that was. Rows decided before stay NULL.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subsidies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_by', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subsidies', schema=None) as batch_op:
        batch_op.drop_column('amount_by')
