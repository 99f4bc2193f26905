"""day_records: each cycle's levels per region and local day, kept for verification

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 06:40:00

One row per cycle (kind `cycle`), per history snapshot of a scenario (`history`), and per pull of
an observed series (`observed`: what happened, read from a reanalysis): the level each daily rule reaches on each region's days, deterministic and as
members meeting each level, as compressed arrays (triggers.verification.DayRecord). `coldwarn verify`
reads them back to score every trigger against what later cycles saw.
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'day_records',
        sa.Column('cycle_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('scenario', sa.String(length=200), nullable=True),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('cycle_id'),
    )
    op.create_index('ix_day_records_as_of', 'day_records', ['as_of'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_day_records_as_of', table_name='day_records')
    op.drop_table('day_records')
