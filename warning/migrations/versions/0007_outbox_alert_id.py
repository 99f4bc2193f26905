"""outbox alert id

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 17:30:21.533314
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outbox_alert', ['subscription_id', 'alert_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_alert')
        batch_op.drop_column('alert_id')

