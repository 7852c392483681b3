// Start a real atproto network (PLC, PDS, AppView, Ozone) from @atproto/dev-env on loopback.
// Prints one JSON line with the service URLs once ready, then serves a tiny control port:
//   POST /process-all  wait until the AppView has indexed everything the PDS sequenced
//   POST /shutdown     close the network and exit
// Needs DB_POSTGRES_URL and REDIS_HOST in the environment (the pytest fixture sets them).
'use strict'
const http = require('http')
const { TestNetwork } = require('@atproto/dev-env')

async function main() {
  const started = Date.now()
  const network = await TestNetwork.create({
    dbPostgresSchema: 'watchfloor',
    pds: { hostname: 'localhost' },
  })
  let closing = false
  const close = async () => {
    if (closing) return
    closing = true
    try { await network.close() } catch (e) { console.error(e) }
    process.exit(0)
  }
  const control = http.createServer((req, res) => {
    if (req.url === '/process-all') {
      network.processAll(20000).then(
        () => res.end('ok'),
        (e) => { res.statusCode = 500; res.end(String(e)) },
      )
    } else if (req.url === '/shutdown') {
      res.end('bye', close)
    } else {
      res.statusCode = 404
      res.end('unknown')
    }
  })
  control.listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({
      pds: network.pds.url,
      appview: network.bsky.url,
      control: `http://127.0.0.1:${control.address().port}`,
      startup_s: (Date.now() - started) / 1000,
    }))
  })
  process.on('SIGTERM', close)
  process.on('SIGINT', close)
  process.stdin.on('end', close) // the parent died: do not linger
  process.stdin.resume()
}

main().catch((e) => { console.error(e); process.exit(1) })
