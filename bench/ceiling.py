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
    import uvicorn

    p = argparse.ArgumentParser(description="bare ASGI ceiling for Maria's benchmark")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--body-file", help="file holding the exact JSON body to answer")
    args = p.parse_args()
    if args.body_file:
        os.environ[BODY_ENV] = str(Path(args.body_file).resolve())
    # The same settings as ``maria serve`` (src/maria/cli.py), loaded by import string too.
    uvicorn.run(
        "ceiling:app",
        app_dir=str(Path(__file__).resolve().parent),
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=True,
        log_level="info",
    )


if __name__ == "__main__":
    main()
