"""uvicorn's HTTP protocol with a cap on the request head (line and headers, 16 KiB).

The parser buffers a header's value whole before the app sees it: one 64 MiB
``Authorization`` header cost 5 s and 100 MiB of memory. Counting the bytes as they arrive,
before the parser keeps them, refuses such a head with 431 once it passes the cap. Tokens
have their own, smaller cap (8 KiB, ``auth.tokens``); bodies theirs (``body.py``).
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from maria.errors import HeadersTooLarge

MAX_HEAD_BYTES = 16 * 1024  # HeadersTooLarge.message says so
_END = b"\r\n\r\n"

_BODY = json.dumps(
    {"error": {"code": HeadersTooLarge.code, "message": HeadersTooLarge.message}},
    separators=(",", ":"),
).encode()
_ANSWER = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _BODY
)


class HeadLimitProtocol(HttpToolsProtocol):
    _in_head = True  # waiting for (the rest of) a request's head
    _head_bytes = 0
    _tail = b""  # the last bytes seen, for a head end split across reads

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            budget = MAX_HEAD_BYTES - self._head_bytes
            if len(data) > budget and _END not in self._tail + data[: budget + len(_END)]:
                self._refuse()
                return
            self._head_bytes += len(data)
            self._tail = data[-(len(_END) - 1) :]
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._tail = True, 0, b""  # the next request's head

    def _refuse(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(_ANSWER)
            self.transport.close()
