"""Alembic environment: runs on the connection that ``Store.migrate`` hands over."""

from alembic import context

from assessment.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
context.run_migrations()
