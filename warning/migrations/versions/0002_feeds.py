"""feeds: formats, fallback, manual cpi, audit, freshness

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:06:20.702734
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('cpi_manual',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=6), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('cpi_yoy', sa.Double(), nullable=False),
    sa.Column('food_cpi_yoy', sa.Double(), nullable=False),
    sa.Column('released_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('area_code', 'month')
    )
    op.create_table('feed_status',
    sa.Column('feed', sa.String(length=32), nullable=False),
    sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stale_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('feed')
    )
    with op.batch_alter_table('feed_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('key', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('elapsed_ms', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('fallback_from', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_feed_runs_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feed_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_runs_key'))
        batch_op.drop_column('fallback_from')
        batch_op.drop_column('elapsed_ms')
        batch_op.drop_column('attempts')
        batch_op.drop_column('key')
        batch_op.drop_column('format')

    op.drop_table('feed_status')
    op.drop_table('cpi_manual')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
