// An AsyncAPI document (on standard input) checked by @asyncapi/parser, the parser of
// AsyncAPI's own tools: its JSON Schema of the spec, the spec's rules (an operation's
// messages belong to its channel, references resolve, ...) and the payload schemas.
// Prints one JSON line per finding: {severity (0 error, 1 warning, 2 info, 3 hint), code,
// message, path}.
import { Parser } from "@asyncapi/parser";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const diagnostics = await new Parser().validate(Buffer.concat(chunks).toString("utf8"));
for (const { severity, code, message, path } of diagnostics) {
  console.log(JSON.stringify({ severity, code, message, path }));
}
