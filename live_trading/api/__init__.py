"""FastAPI adapter: REST endpoints over the engine and the read models."""
