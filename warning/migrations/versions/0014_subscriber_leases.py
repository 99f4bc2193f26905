"""subscriptions: the lease a worker holds while sending a subscriber's messages

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 09:30:00

A worker leased each message it claimed (outbox.claimed_until): every message was written twice, and
the leases the workers had let go stayed in ix_outbox_leased as dead entries every claim stepped
over, until vacuum (a third of the national township drain). The lease is now on the subscriber, one
row per batch. outbox.claimed_until is no longer read or written; it stays so that a web process
older than 0014 keeps working during the upgrade, and goes in a later migration.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

LEASED = sa.text("claimed_until IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True))
    op.drop_index('ix_outbox_leased', table_name='outbox')


def downgrade() -> None:
    op.create_index('ix_outbox_leased', 'outbox', ['subscription_id', 'claimed_until'],
                    postgresql_where=LEASED, sqlite_where=LEASED)
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('leased_until')
