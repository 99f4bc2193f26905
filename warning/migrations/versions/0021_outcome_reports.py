"""outcome_reports: the figures counties report for their tasks

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 12:00:00

A running total per task and measure (街面巡查 12 次), reported on the county page, through the API
or by a chat reply; each row is one report, so the history stays and roll-ups can look back.
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outcome_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('task_type', sa.String(length=64), nullable=False),
        sa.Column('measure', sa.String(length=64), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reported_by', sa.String(length=100), nullable=False),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('review', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outcome_reports_task_measure', 'outcome_reports', ['task_id', 'measure', 'reported_at'])
    op.create_index('ix_outcome_reports_reported_at', 'outcome_reports', ['reported_at'])
    op.create_index('ix_outcome_reports_region_code', 'outcome_reports', ['region_code'])


def downgrade() -> None:
    op.drop_table('outcome_reports')
