// lib/watch.ts: a <video> that plays in step with the room (a client component calls it).
import type { RoomClient, RoomPlayer } from "@kinoway/maria";

import { joinRoom } from "./maria.js";

/**
 * Join a room with a player (a `<video>` element is one). `load(movieId)` is asked to
 * load the room's film, and again at every media change of the shared queue. The player's
 * `canplay` reports `ready` and its `waiting` reports `buffering`, so a play waits for
 * everyone; the start the server schedules is kept to the millisecond, and drift is
 * corrected as Jellyfin's SyncPlay does (a rate nudge, a seek from 0.4 s).
 */
export async function watchTogether(
  roomId: string,
  player: RoomPlayer,
  load: (movieId: number) => void,
): Promise<{ room: RoomClient; leave: () => void }> {
  const room = joinRoom(roomId);
  await room.connect();
  let media = room.state!.queue.media_seq;
  load(room.state!.queue.movie_id);
  const offQueue = room.on("queue", (queue) => {
    if (queue.media_seq === media) return; // the order changed, not the film
    media = queue.media_seq;
    load(queue.movie_id); // everyone is `buffering` now; `canplay` will say `ready`
  });
  const detach = room.attach(player);
  return {
    room,
    leave: () => {
      offQueue();
      detach();
      room.close();
    },
  };
}
