"""What instances tell each other about rooms, over the broker's ``maria:rooms`` channel.

One channel for all rooms: every subscriber receives its messages in the one order Redis
published them, and handlers are registered once, before the broker starts. A message is
``"<room id> <json>"`` so an instance skips rooms it does not serve without parsing JSON.
"""

from __future__ import annotations

import json
from typing import Any

CHANNEL = "maria:rooms"


def pack(room_id: str, event: dict[str, Any]) -> str:
    return f"{room_id} {json.dumps(event, separators=(',', ':'), ensure_ascii=False)}"


def room_of(message: str) -> tuple[str, str]:
    room_id, _, body = message.partition(" ")
    return room_id, body
