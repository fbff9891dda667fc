"""Alembic environment: migrations run on the connection the service passes in."""

from alembic import context

from labopt_api.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # command line: use the URL from the environment
    from labopt_api.db import make_engine
    from labopt_api.settings import get_settings

    connection = make_engine(get_settings().database_url).connect()

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
