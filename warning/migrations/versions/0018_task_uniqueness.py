"""tasks: one of a type and instance per alert, and per subsidy

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:40:00

A cycle planned a task once per (alert, type, instance) by looking first; two cycles overlapping
(a leader that lost its lock while another took over) could both plan it. The unique indexes make
the second commit fail instead. (NULLs are distinct: an alert's tasks have no subsidy and the
other way round, so each index only binds its own kind.)
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ux_tasks_alert_type_instance', 'tasks', ['alert_id', 'type', 'instance'], unique=True)
    op.create_index('ux_tasks_subsidy_type_instance', 'tasks', ['subsidy_id', 'type', 'instance'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_tasks_subsidy_type_instance', table_name='tasks')
    op.drop_index('ux_tasks_alert_type_instance', table_name='tasks')
