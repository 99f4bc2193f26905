"""outbox: find a subscriber's due and leased messages by index

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 01:40:00

A worker claims messages only of subscribers no other worker is sending to (their order holds across
workers). Both indexes are partial: pending messages, and the few leased right now.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
LEASED = sa.text("claimed_until IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_outbox_pending_by_subscriber', 'outbox', ['subscription_id', 'next_attempt_at', 'id'],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index('ix_outbox_leased', 'outbox', ['subscription_id', 'claimed_until'],
                    postgresql_where=LEASED, sqlite_where=LEASED)


def downgrade() -> None:
    op.drop_index('ix_outbox_leased', table_name='outbox')
    op.drop_index('ix_outbox_pending_by_subscriber', table_name='outbox')
