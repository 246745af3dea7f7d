"""The values the published schema's examples show: one consistent story (Anna, her
session, her lists of Kinopoisk films, her room), so that an example of one operation
matches those of the next. Shaped exactly like what Maria sends (``tests/test_openapi.py``
validates every example against its schema); none of the tokens is valid anywhere.
"""

from __future__ import annotations

from typing import Any

USER_ID = "5cd9abef-2beb-46a1-a3f7-dd845336eb6f"
ADMIN_ID = "7a89c139-502b-4a98-b4b6-7e69929aaccb"
FRIEND_ID = "1d72e0d7-e3c7-400e-800f-c5c332b30452"
SESSION_ID = "86d660bd-3ee7-4a5e-bdf3-89532d9ea14d"
ROOM_ID = "95a0e384-e00a-47f5-9344-f5ed578184ee"
MESSAGE_ID = "f39314db-0f4c-4c32-909b-77efdc58ca3a"
EVENT_ID = "2e81eb67-a7f3-4b38-a719-0bcc5610692b"
EMAIL = "anna@example.com"
NAME = "Anna Karenina"
PASSWORD = "velvet-tram-harbor-917"  # within the policy; never a test account's password
NEW_PASSWORD = "quiet-lantern-meadow-42"
CODE = "492817"
# A JWT of Anna's session, shaped as Maria issues them (header with ``kid``); its
# signature is random bytes.
ACCESS_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Ik1PX2I3UGpibDRNb0dVY1MifQ."
    "eyJzdWIiOiI1Y2Q5YWJlZi0yYmViLTQ2YTEtYTNmNy1kZDg0NTMzNmViNmYiLCJzaWQiOiI4NmQ2NjBiZC0zZWU3"
    "LTRhNWUtYmRmMy04OTUzMmQ5ZWExNGQiLCJyb2xlIjoidXNlciIsImp0aSI6IjBBVXdsR0JHaUZHY2h5dnpOTjlG"
    "UUEiLCJpYXQiOjE3NzM1MTY2MDUsImV4cCI6MTc3MzUxNzUwNSwiaXNzIjoibWFyaWEiLCJhdWQiOiJraW5vd2F5"
    "IiwiZW1haWxfdmVyaWZpZWQiOnRydWV9."
    "AsuHiNPrUh3n7s8g8an6D0vM5pMBIInqDnrXdThc5Gk"
)
EXPIRES_AT = 1773517505  # the token's ``exp``: 15 minutes after CREATED_AT
REFRESH_TOKEN = f"{SESSION_ID}.0.3DTYSGgGa0UphVOKzaEHHL87sx2JapEFLyRXKLcPjKg"
DEVICE_TOKEN = "d1.oSHxgfqMHCniHEiSHFOF_w.EJkuV172zSx-546xT3Cn_CHwwNxN4p20OiV_hOwejts"
LINK_TOKEN = "Jc1Yk3n0wq3M0Gf0a5p9v2T8uXb6Rr4sLq7dWz1eHyA"  # of a mailed link
CURSOR = "MS5uLjE3NzM1MTcwMDAwMDAwMDAuNDM1LjAwYjY3N2NmNGU3ZjIzOTU"
AVATAR_URL = "https://kinoway.example/api/v1/avatars/9ae7dce9cd1e0ede27974e241f32023d.webp"
CREATED_AT = "2026-03-14T19:30:05.123456Z"
LATER = "2026-03-14T21:02:41.500120Z"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:136.0) Gecko/20100101 Firefox/136.0"
IP = "203.0.113.7"
# Kinopoisk ids: The Shawshank Redemption, The Green Mile, Forrest Gump, Interstellar.
SHAWSHANK, GREEN_MILE, FORREST_GUMP, INTERSTELLAR = 326, 435, 448, 258687

USER: dict[str, Any] = {
    "id": USER_ID,
    "email": EMAIL,
    "display_name": NAME,
    "avatar_url": AVATAR_URL,
    "role": "user",
    "email_verified": True,
    "created_at": CREATED_AT,
}
