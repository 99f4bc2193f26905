"""metric_tallies: Prometheus counters and histograms that survive pruning

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 09:30:00

/metrics counted rows (delivery attempts, feed runs, cycles, job runs), so its counters fell after
`coldwarn prune`. Each is now a running total kept here, added to as the counted thing is recorded.
They start from zero at this migration (Prometheus reads the start as a counter reset).
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'metric_tallies',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('labels', sa.String(length=400), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'labels'),
    )


def downgrade() -> None:
    op.drop_table('metric_tallies')
