// Starts the real local-first relay (@localfirst/relay, pinned in package.json) for the local-first
// profile, the way our reference relay starts: the first stdout line is the bound ws:// URL, so a
// script can start it on port 0 and read where it listens; SIGTERM or SIGINT stops it, exit 0.
//
//   node start.mjs [--host 127.0.0.1] [--port 0]
//
// The package's Server is used as published (`new Server({ port }).listen()`); it listens through
// express-ws's `app.listen(port, callback)` on every interface and keeps the http.Server to itself.
// We wrap that one call to add the host and keep the http.Server, to learn the port bound for 0.
// Exit codes: 0 after a signal, 1 if it cannot listen, 2 on bad arguments.
import { Server } from "@localfirst/relay/Server.js"

const usage = "usage: node start.mjs [--host ADDRESS] [--port N]   (defaults: 127.0.0.1, 0 = a free port)"

function parseArgs(argv) {
  const options = { host: "127.0.0.1", port: 0 }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s)
    const value = inline ?? argv[++i]
    if (flag === "--help" || flag === "-h") {
      console.log(usage)
      process.exit(0)
    } else if (flag === "--host" && value) {
      options.host = value
    } else if (flag === "--port" && /^\d+$/.test(value ?? "") && Number(value) <= 65535) {
      options.port = Number(value)
    } else {
      console.error(`start.mjs: bad argument ${argv[i]}\n${usage}`)
      process.exit(2)
    }
  }
  return options
}

const { host, port } = parseArgs(process.argv.slice(2))
const relay = new Server({ port })

// Listen on `host` only, and keep the http.Server that express-ws creates.
let httpServer
const appListen = relay.app.listen
relay.app.listen = (listenPort, callback) => (httpServer = appListen.call(relay.app, listenPort, host, callback))

// A listen error (EADDRINUSE) reaches the package's reject(), but express-ws's WebSocketServer
// re-emits it first as an 'error' event nobody listens to, which throws: catch both.
const cannotListen = error => {
  console.error(`start.mjs: cannot listen on ${host}:${port}: ${error?.message ?? "error"}`)
  process.exit(1)
}
process.on("uncaughtException", cannotListen)
// silent: the package would otherwise print "🐟 Listening at http://localhost:<port>" first.
await relay.listen({ silent: true }).catch(cannotListen)
process.off("uncaughtException", cannotListen)

const bound = httpServer.address()
const shownHost = bound.family === "IPv6" || bound.family === 6 ? `[${bound.address}]` : bound.address
console.log(`ws://${shownHost}:${bound.port}`)

// Stop: the package's close() ends every socket it opened (a close frame without status, then
// the connection is destroyed); then stop listening and leave.
const stop = () => {
  relay.close()
  httpServer.close()
  httpServer.closeAllConnections?.()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
