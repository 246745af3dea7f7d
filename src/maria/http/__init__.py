"""The HTTP layer: what turns ASGI requests and sockets into calls on the services.

Only this package, the domain routers and the app's wiring import the web framework (an
import-linter contract in ``make lint``). It holds the identity middleware (who is
calling), the FastAPI dependencies routes receive, how credentials travel (cookies, CSRF),
the rendering of ``maria.errors`` as the contract's error body, and the raw ASGI guards
(body size, request metrics).
"""
