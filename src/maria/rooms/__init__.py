"""Watch-together rooms: REST for the room itself, a WebSocket for chat, presence and
synchronized playback, fanned out across instances through the broker."""
