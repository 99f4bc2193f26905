"""region codes widen from six digits to twelve, so townships (nine digits) can be regions

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = [('alerts', 'region_code'), ('caseloads', 'region_code'), ('shelters', 'region_code'),
           ('subsidies', 'region_code'), ('subsidies', 'index_area'), ('tasks', 'region_code'),
           ('cpi_manual', 'area_code'), ('users', 'region_code'), ('manual_decisions', 'region_code')]


def resize(length: int) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return  # SQLite does not enforce VARCHAR lengths; rebuilding nine tables would gain nothing
    for table, column in COLUMNS:
        # widening a varchar is a catalogue change in PostgreSQL: no table rewrite, no long lock
        op.alter_column(table, column, type_=sa.String(length=length))


def upgrade() -> None:
    resize(12)


def downgrade() -> None:
    resize(6)  # fails, as it should, while any township code is stored
