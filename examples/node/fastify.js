'use strict'
// Fastify: POST http://127.0.0.1:8000/callback, with the decider of the
// Express example. Run: make example-fastify
const Fastify = require('../../bindings-node/node_modules/fastify')
const { CallbackHandler, allow, reject } = require('../../bindings-node')
const { friendgate } = require('../../bindings-node/lib/fastify.js')

const handler = new CallbackHandler({
  appIds: [Number(process.env.FRIENDGATE_APP_ID || 1400000000)],
  tokens: [process.env.FRIENDGATE_TOKEN || 'xxxxyyyy'], // the documentation's demo token
})

const BLOCKED = new Set(['spam_ring_001', 'spam_ring_002', 'banned_user'])

async function decide(event, item) {
  if (BLOCKED.has(event.fromAccount) || BLOCKED.has(item.toAccount)) return reject(38001, 'account is blocked')
  return allow()
}

// Friend requests: blocked accounts may not send them either.
async function decideAdd(event, item) {
  if (BLOCKED.has(event.fromAccount) || BLOCKED.has(item.toAccount)) return reject(38001, 'account is blocked')
  return allow()
}

const app = Fastify({ logger: false })
// Every method at /callback; other authenticated commands get core's
// "processed" answer (pass onOther to handle them).
app.register(friendgate, { handler, decide, decideAdd })

const host = process.env.HOST || '127.0.0.1'
const port = Number(process.env.PORT || 8000)
app.listen({ host, port }).then((url) => console.log(`friendgate Fastify example on ${url}/callback`))
