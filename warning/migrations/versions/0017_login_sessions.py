"""login_sessions: console logins held on the server

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:20:00

A console login was only a signed cookie: logging out cleared the browser's copy, and any copy
taken before still worked until it expired. The login is now a row that logging out ends; the
cookie carries its token, the table only the token's SHA-256. Logins made before this migration
end with it (their cookies name no row): people log in again once.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_sha256'),
    )
    op.create_index('ix_login_sessions_user_id', 'login_sessions', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_login_sessions_user_id', table_name='login_sessions')
    op.drop_table('login_sessions')
