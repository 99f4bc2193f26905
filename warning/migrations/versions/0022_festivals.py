"""festivals: 元旦 and 春节 decisions, and the tasks they bring

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 12:30:00

One decision per (region, festival, day), made once the festival comes within notice: the time
benefits must be paid by and the holiday subsidy the region's rules set. Its tasks point to it, one
of a type and instance per festival (as for alerts and subsidies).
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'festivals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('festival', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('pay_by', sa.DateTime(timezone=True), nullable=False),
        sa.Column('per_person_yuan', sa.Float(), nullable=False),
        sa.Column('recipients', sa.Integer(), nullable=True),
        sa.Column('total_yuan', sa.Float(), nullable=True),
        sa.Column('rule_version', sa.String(length=40), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('region_code', 'festival', 'day'),
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('festival_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_tasks_festival_id_festivals', 'festivals', ['festival_id'], ['id'])
        batch_op.create_index('ix_tasks_festival_id', ['festival_id'], unique=False)
        batch_op.create_index('ux_tasks_festival_type_instance', ['festival_id', 'type', 'instance'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ux_tasks_festival_type_instance')
        batch_op.drop_index('ix_tasks_festival_id')
        batch_op.drop_constraint('fk_tasks_festival_id_festivals', type_='foreignkey')
        batch_op.drop_column('festival_id')
    op.drop_table('festivals')
