"""subscription channels: webhook, wecom, dingtalk, email, sms; the language people read

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=False, server_default='webhook'))
        batch_op.add_column(sa.Column('lang', sa.String(length=2), nullable=False, server_default='zh'))
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('options')
        batch_op.drop_column('lang')
        batch_op.drop_column('channel')
