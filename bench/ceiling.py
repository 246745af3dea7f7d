"""The ceiling: a bare ASGI app that answers every request with ``/users/me``'s JSON body.

No framework, no routing, no checks: what uvicorn itself can serve on this machine. It runs
the way ``maria serve`` runs Maria (uvloop, httptools, one worker, no access log, proxy
headers trusted), so the ratio Maria/ceiling measures only what Maria adds.

    python bench/ceiling.py --port 8001 [--body-file body.json]

The body comes from ``--body-file`` (``bench/run.py`` writes the exact bytes Maria returned
for ``GET /api/v1/users/me``), else a representative sample.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

SAMPLE_BODY = (
    b'{"id":"6f1c2a64-0f4e-4c1b-9a57-3f2d8e1b9c40","email":"bench-user@example.com",'
    b'"display_name":"Bench User","avatar_url":null,"role":"user","email_verified":false,'
    b'"created_at":"2025-01-01T00:00:00Z"}'
)
BODY_ENV = "MARIA_CEILING_BODY_FILE"


def _load_body() -> bytes:
    path = os.environ.get(BODY_ENV)
    return Path(path).read_bytes() if path else SAMPLE_BODY


BODY = _load_body()
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-length", str(len(BODY)).encode()),
        (b"content-type", b"application/json"),
    ],
}
RESPONSE_BODY = {"type": "http.response.body", "body": BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(START)
    await send(RESPONSE_BODY)


def main() -> None:
    p = argparse.ArgumentParser(description="bare ASGI ceiling for Maria's benchmark")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--body-file", help="file holding the exact JSON body to answer")
    args = p.parse_args()
    if args.body_file:
        os.environ[BODY_ENV] = str(Path(args.body_file).resolve())
    serve_like_maria("ceiling:app", args.host, args.port)


def serve_like_maria(app: str, host: str, port: int, **options: Any) -> None:
    """Run ``app`` (an import string in bench/) with ``maria serve``'s settings
    (src/maria/cli.py), so that a comparison measures the app, not the server set-up."""
    import uvicorn

    uvicorn.run(
        app,
        app_dir=str(Path(__file__).resolve().parent),
        host=host,
        port=port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=True,
        ws_per_message_deflate=False,
        log_level="info",
        **options,
    )


if __name__ == "__main__":
    main()
