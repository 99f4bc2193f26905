"""feed_runs: what was read but is worth saying (a forecast's horizon cut short)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:30:00

A payload may be good and still not what was asked for: Open-Meteo pads a model's series with null
past its horizon, and those hours are cut. The feed run says so beside its status.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feed_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feed_runs', schema=None) as batch_op:
        batch_op.drop_column('notes')
