'use strict'
// Express: POST http://127.0.0.1:8000/callback, with an async decider.
// Run: make example-node   (settings: FRIENDGATE_APP_ID, FRIENDGATE_TOKEN, HOST, PORT)
const express = require('../../bindings-node/node_modules/express')
const { CallbackHandler, allow, reject } = require('../../bindings-node')
const { expressMiddleware } = require('../../bindings-node/lib/http.js')

const handler = new CallbackHandler({
  appIds: [Number(process.env.FRIENDGATE_APP_ID || 1400000000)],
  tokens: [process.env.FRIENDGATE_TOKEN || 'xxxxyyyy'], // the documentation's demo token
})

const BLOCKED = new Set(['spam_ring_001', 'spam_ring_002', 'banned_user'])
const WORDS = ['free money', 'casino']

async function decide(event, item) {
  // e.g. a database or cache lookup would be awaited here
  if (BLOCKED.has(event.fromAccount) || BLOCKED.has(item.toAccount)) return reject(38001, 'account is blocked')
  const text = `${item.remark} ${item.tagName}`.toLowerCase()
  if (WORDS.some((word) => text.includes(word))) return reject(38002, 'remark or tag not allowed')
  return allow()
}

// Friend requests (Sns.CallbackPrevFriendAdd), where abuse mostly comes in:
// the same blocked accounts, and banned words in the greeting too.
async function decideAdd(event, item) {
  if (BLOCKED.has(event.fromAccount) || BLOCKED.has(item.toAccount)) return reject(38001, 'account is blocked')
  const text = `${item.remark} ${item.groupName} ${item.addWording}`.toLowerCase()
  if (WORDS.some((word) => text.includes(word))) return reject(38002, 'greeting not allowed')
  return allow()
}

// The app's one callback URL receives its other callbacks too; friendgate
// authenticates them (forged ones never get here) and hands them over.
const messagesSeen = []
function onOther(request, body, _req, res) {
  if (request.command === 'C2C.CallbackAfterSendMsg') messagesSeen.push(JSON.parse(body).From_Account)
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end('{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}')
}

const app = express()
app.all('/callback', expressMiddleware(handler, decide, { onOther, decideAdd })) // before any body parser
app.use(express.json()) // other routes may parse JSON as usual

const host = process.env.HOST || '127.0.0.1'
const port = Number(process.env.PORT || 8000)
app.listen(port, host, () => console.log(`friendgate Express example on http://${host}:${port}/callback`))
