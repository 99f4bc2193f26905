"""subscriptions: room for the `alertmanager` format

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 09:00:00

The format column held json and cap (8 characters); Alertmanager-compatible webhooks need 12.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.alter_column('format', existing_type=sa.String(length=8), type_=sa.String(length=16))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.alter_column('format', existing_type=sa.String(length=16), type_=sa.String(length=8))
