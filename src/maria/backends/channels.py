"""The broker channels instances talk on. Named here, below every domain that publishes or
listens, so that no domain imports another's names to follow its changes."""

from __future__ import annotations

REVOKED = "maria:revoked"  # "<session id> <revoked at, unix seconds>"
USERS = "maria:users"  # a user id whose row changed (or is gone)
LISTS = "maria:lists"  # an owner id whose lists changed
ROOMS = "maria:rooms"  # "<room id> <event JSON>" (rooms/events.py)
