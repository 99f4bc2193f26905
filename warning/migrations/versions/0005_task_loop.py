"""task loop

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:43:05.406601
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('updated_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('completed_at')
        batch_op.drop_column('updated_by')
        batch_op.drop_column('instance')

