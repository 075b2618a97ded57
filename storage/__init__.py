"""Storage: typed models, engine/session factories, Alembic migrations and repository functions."""

from storage.db import make_engine, make_sessionmaker, upgrade

__all__ = ["make_engine", "make_sessionmaker", "upgrade"]
