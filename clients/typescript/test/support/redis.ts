/**
 * `FLUSHDB` on the test run's Redis database before each server starts: Maria keeps its
 * rate-limit counts there (20 registrations per address per hour, shared by every server of
 * the run and surviving it), so without a flush the test files would use up each other's
 * quota. Three commands of RESP over a socket; no Redis client needed.
 */
import { connect } from "node:net";

export async function flushRedis(url: string): Promise<void> {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, "") || "0";
  const commands: string[][] = [];
  if (parsed.password) {
    commands.push(parsed.username ? ["AUTH", decodeURIComponent(parsed.username), decodeURIComponent(parsed.password)] : ["AUTH", decodeURIComponent(parsed.password)]);
  }
  commands.push(["SELECT", db], ["FLUSHDB"]);
  const wire = commands.map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`).join("");
  await new Promise<void>((done, fail) => {
    const socket = connect(Number(parsed.port || 6379), parsed.hostname);
    let replies = "";
    socket.setTimeout(5_000, () => socket.destroy(new Error(`Redis at ${parsed.host} did not answer`)));
    socket.on("connect", () => socket.write(wire));
    socket.on("data", (chunk) => {
      replies += chunk.toString("utf8");
      const lines = replies.split("\r\n").filter(Boolean);
      const error = lines.find((line) => line.startsWith("-"));
      if (error) socket.destroy(new Error(`Redis refused: ${error}`));
      else if (lines.length >= commands.length) socket.end(() => done());
    });
    socket.on("error", fail);
  });
}
