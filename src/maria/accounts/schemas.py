"""Bodies of the account endpoints: the data export's example (its format is
``Accounts.export``'s; the request bodies live with the users domain)."""

from __future__ import annotations

from typing import Any

from maria import examples as ex

EXPORT_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "account": {
        "id": ex.USER_ID,
        "email": ex.EMAIL,
        "display_name": ex.NAME,
        "avatar_url": ex.AVATAR_URL,
        "role": "user",
        "email_verified": True,
        "has_password": True,
        "created_at": "2026-03-14T19:30:05.123456+00:00",
    },
    "sessions": [
        {
            "id": ex.SESSION_ID,
            "created_at": "2026-03-14T19:30:05.154673+00:00",
            "last_used_at": "2026-03-14T21:02:41.500120+00:00",
            "expires_at": "2026-04-13T21:02:41.500120+00:00",
            "revoked_at": None,
            "ip": ex.IP,
            "user_agent": ex.USER_AGENT,
        }
    ],
    "known_addresses": [{"address": ex.IP, "last_seen_at": "2026-03-14T21:02:41.500120+00:00"}],
    "lists": [
        {
            "slug": "favorites",
            "title": "Favorites",
            "is_public": True,
            "builtin": True,
            "created_at": "2026-03-14T19:30:05.141807+00:00",
            "updated_at": "2026-03-14T21:02:41.500120+00:00",
            "items": [
                {
                    "movie_id": ex.SHAWSHANK,
                    "added_at": "2026-03-14T21:02:41.500120+00:00",
                    "note": "Rewatch with Dad",
                }
            ],
        },
        {
            "slug": "watch-later",
            "title": "Watch later",
            "is_public": False,
            "builtin": True,
            "created_at": "2026-03-14T19:30:05.141807+00:00",
            "updated_at": "2026-03-14T19:30:05.141807+00:00",
            "items": [],
        },
    ],
    "messages": [
        {
            "room_id": ex.ROOM_ID,
            "id": ex.MESSAGE_ID,
            "user_id": ex.USER_ID,
            "name": ex.NAME,
            "text": "Popcorn is ready!",
            "timestamp": 1773522170250,
            "seq": 42,
        }
    ],
    "reactions": [
        {
            "room_id": ex.ROOM_ID,
            "id": "0193a0c2-6a2b-7c3a-9b2d-4e5f6a7b8c9d",
            "user_id": ex.USER_ID,
            "name": ex.NAME,
            "emoji": "🍿",
            "position": 754.5,
            "timestamp": 1773522171000,
        }
    ],
    "rooms": [
        {
            "room_id": ex.ROOM_ID,
            "role": "member",
            "muted": False,
            "banned_until": None,
            "access": True,
            "first_joined_at": "2026-03-14T19:40:05.123456+00:00",
            "last_joined_at": "2026-03-14T21:02:41.500120+00:00",
        }
    ],
    "audit": [
        {
            "at": "2026-03-14T19:30:05.157524+00:00",
            "event": "registered",
            "actor_id": None,
            "ip": ex.IP,
            "user_agent": ex.USER_AGENT,
            "detail": None,
        }
    ],
}
