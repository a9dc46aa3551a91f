// The talkback peer for the replay benchmark: talkback in playback-only mode.
//
// Usage: node benches/talkback_replay.js TAPES_DIR READY_FILE
//
// Recording is DISABLED and unknown requests get talkback's NOT_FOUND fallback (404), so nothing
// is ever proxied (`host` also points at a closed local port to make that doubly sure).
// Matching compares method, URL, body and the content-type header only, so wrk's and curl's
// different default headers both match the tape.
//
// talkback's own server (`talkback(opts).start()`) listens on every interface; to stay on
// loopback this script serves talkback's documented `requestHandler` API from a Node http server
// bound to 127.0.0.1, doing per request exactly what talkback's server does (collect the body,
// `handle`, `writeHead`, `end`). Once listening on a free port it writes host:port to
// READY_FILE (temp file + rename) and serves until SIGINT/SIGTERM.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const talkback = require("talkback");

async function main() {
  const [tapes, readyFile] = process.argv.slice(2);
  if (!tapes || !readyFile) {
    console.error("usage: node talkback_replay.js TAPES_DIR READY_FILE");
    process.exit(2);
  }
  const handler = await talkback.requestHandler({
    host: "http://127.0.0.1:9",
    path: tapes,
    record: talkback.Options.RecordMode.DISABLED,
    fallbackMode: talkback.Options.FallbackMode.NOT_FOUND,
    allowHeaders: ["content-type"],
    silent: true,
    summary: false,
  });

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", async () => {
      try {
        const answer = await handler.handle({
          headers: req.headers,
          url: req.url,
          method: req.method,
          body: Buffer.concat(chunks),
        });
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      } catch (error) {
        console.error("talkback: error handling request", error);
        res.statusCode = 500;
        res.end();
      }
    });
  });

  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    const temp = path.join(path.dirname(readyFile), `.${path.basename(readyFile)}.tmp`);
    fs.writeFileSync(temp, `127.0.0.1:${port}\n`);
    fs.renameSync(temp, readyFile);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error) => {
  console.error("talkback failed to start:", error);
  process.exit(1);
});
