"""The ASGI entry point for servers: ``uvicorn maria.asgi:app``."""

from maria.app import create_app

app = create_app()
