'use strict'
// node:http and Express adapters over real HTTP on 127.0.0.1.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const express = require('express')
const Fastify = require('fastify')
const { CallbackHandler, CallbackRequest, allow, reject } = require('..')
const { requestListener, expressMiddleware } = require('../lib/http.js')
const { signedQuery, sampleBody, sampleAddBody } = require('../lib/testing.js')
const { friendgate } = require('../lib/fastify.js')

const EXPECTED =
  '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"id1","ResultCode":0,"ResultInfo":""},{"To_Account":"id2","ResultCode":38001,"ResultInfo":"no"}]}'
const handler = new CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'] })
const decide = async (_event, item) => (item.toAccount === 'id2' ? reject(38001, 'no') : allow())

const askedAdd = []
/** A friend request is refused for a listed word in its greeting. */
const decideAdd = async (_event, item) => {
  askedAdd.push(item.toAccount)
  return item.addWording.includes('id2') ? reject(38010, 'greeting') : allow()
}
const EXPECTED_ADD =
  '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"id1","ResultCode":0,"ResultInfo":""},{"To_Account":"id2","ResultCode":38010,"ResultInfo":"greeting"}]}'

/** A friend request at the one URL is decided by decideAdd, in order; a forged one never reaches it. */
async function friendRequests(base, path = '/callback') {
  askedAdd.length = 0
  const query = (token) => signedQuery(1400000000, token, undefined, { command: 'Sns.CallbackPrevFriendAdd' })
  let res = await fetch(`${base}${path}?${query('xxxxyyyy')}`, { method: 'POST', body: sampleAddBody() })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), EXPECTED_ADD)
  assert.deepEqual(askedAdd, ['id1', 'id2'])
  res = await fetch(`${base}${path}?${query('forged')}`, { method: 'POST', body: sampleAddBody() })
  assert.equal(res.status, 401)
  assert.equal(askedAdd.length, 2)
}

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${server.address().port}`
}

async function exchanges(base, path = '/callback') {
  const url = `${base}${path}?${signedQuery(1400000000, 'xxxxyyyy')}`
  let res = await fetch(url, { method: 'POST', body: sampleBody(), headers: { 'content-type': 'application/json' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.equal(await res.text(), EXPECTED)
  res = await fetch(url.replace('Sign=', 'Sign=0'), { method: 'POST', body: sampleBody() })
  assert.equal(res.status, 401)
  assert.match(await res.text(), /"ErrorCode":38012/)
  res = await fetch(url)
  assert.equal(res.status, 405)
  assert.equal(res.headers.get('allow'), 'POST')
  assert.equal(
    await res.text(),
    '{"ActionStatus":"FAIL","ErrorCode":38040,"ErrorInfo":"method GET is not allowed: the callback is a POST","ResultItem":[]}',
  )
  // Every method but POST gets core's 405 from the adapter, not the framework.
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    res = await fetch(url, { method })
    assert.equal(res.status, 405, method)
    assert.match(await res.text(), new RegExp(`"ErrorCode":38040,"ErrorInfo":"method ${method} is not allowed`))
  }
  res = await fetch(url, { method: 'HEAD' })
  assert.equal(res.status, 405)
  // Whatever the content type, or none: the bytes are what the Sign covers.
  for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, {}]) {
    res = await fetch(url, { method: 'POST', body: Buffer.from(sampleBody()), headers })
    assert.equal(res.status, 200, JSON.stringify(headers))
    assert.equal(await res.text(), EXPECTED)
  }
  res = await fetch(url, { method: 'POST', body: Buffer.alloc(2 << 20, 32) })
  assert.equal(res.status, 413)
}

const AFTER_SEND = '{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"jared"}'
const APP_ANSWER = '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","App":"mine"}'
const otherQuery = (token = 'xxxxyyyy') =>
  signedQuery(1400000000, token).replace('Sns.CallbackPrevFriendResponse', 'C2C.CallbackAfterSendMsg')

/** The app's own handler for its other callbacks, recording what it got. */
function recording(seen) {
  return (request, body, _req, res) => {
    assert.ok(request instanceof CallbackRequest)
    seen.push([request.command, request.sdkAppId, request.commandKnown, body.toString()])
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(APP_ANSWER)
  }
}

/** The one URL: another command reaches onOther typed with its body; a forged one never does. */
async function oneUrl(base, seen, path = '/callback') {
  let res = await fetch(`${base}${path}?${otherQuery()}`, { method: 'POST', body: AFTER_SEND })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), APP_ANSWER)
  assert.deepEqual(seen, [['C2C.CallbackAfterSendMsg', 1400000000, true, AFTER_SEND]])
  res = await fetch(`${base}${path}?${otherQuery('forged-token')}`, { method: 'POST', body: AFTER_SEND })
  assert.equal(res.status, 401)
  assert.match(await res.text(), /"ErrorCode":38012/)
  assert.equal(seen.length, 1)
}

test('node:http request listener', async () => {
  const seen = []
  const server = http.createServer(requestListener(handler, decide, { onOther: recording(seen), decideAdd }))
  const plain = http.createServer(requestListener(handler, decide))
  try {
    const base = await listen(server)
    await exchanges(base)
    await oneUrl(base, seen)
    await friendRequests(base)
    // Without onOther: core's processed answer; without decideAdd, a friend
    // request is still answered item by item, allowed.
    const plainBase = await listen(plain)
    let res = await fetch(`${plainBase}/callback?${otherQuery()}`, { method: 'POST', body: AFTER_SEND })
    assert.equal(res.status, 200)
    assert.equal(await res.text(), '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}')
    const add = signedQuery(1400000000, 'xxxxyyyy', undefined, { command: 'Sns.CallbackPrevFriendAdd' })
    res = await fetch(`${plainBase}/callback?${add}`, { method: 'POST', body: sampleAddBody() })
    assert.equal((await res.text()).match(/"ResultCode":0/g).length, 2)
  } finally {
    server.close()
    plain.close()
  }
})

test('express middleware', async () => {
  const seen = []
  const app = express()
  app.all('/callback', expressMiddleware(handler, decide, { onOther: recording(seen), decideAdd }))
  const server = http.createServer(app)
  try {
    const base = await listen(server)
    await exchanges(base)
    await oneUrl(base, seen)
    await friendRequests(base)
  } finally {
    server.close()
  }
})

test('fastify plugin', async () => {
  const seen = []
  const app = Fastify()
  await app.register(friendgate, {
    handler,
    decide,
    decideAdd,
    onOther: (request, body, fastifyRequest, reply) => {
      assert.ok(request instanceof CallbackRequest)
      assert.equal(fastifyRequest.method, 'POST')
      seen.push([request.command, request.sdkAppId, request.commandKnown, body.toString()])
      return reply.type('application/json').send(APP_ANSWER)
    },
  })
  await app.register(friendgate, { handler, path: '/plain/callback' })
  // The plugin's raw-body parser stays in its own context.
  app.post('/json', async (request) => ({ got: request.body }))
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    await exchanges(base)
    await oneUrl(base, seen)
    await friendRequests(base)
    let res = await fetch(`${base}/plain/callback?${otherQuery()}`, { method: 'POST', body: AFTER_SEND })
    assert.equal(await res.text(), '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}')
    res = await fetch(`${base}/json`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
    assert.deepEqual(await res.json(), { got: { a: 1 } })
    // A forged callback is refused before its body is read; the connection closes.
    res = await fetch(`${base}/callback?${signedQuery(1400000000, 'forged')}`, { method: 'POST', body: sampleBody() })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('connection'), 'close')
  } finally {
    await app.close()
  }
})

test('fastify plugin needs a handler', async () => {
  const app = Fastify()
  await assert.rejects(app.register(friendgate, { decide }).ready(), /needs `handler`, a CallbackHandler/)
})

test('authenticate and route any command', () => {
  const now = 1669872112
  const query = signedQuery(1400000000, 'xxxxyyyy', now).replace('Sns.CallbackPrevFriendResponse', 'State.StateChange')
  const request = handler.authenticate(query, { now })
  assert.deepEqual(
    [request.command, request.commandKnown, request.sdkAppId, request.requestTime, request.platform],
    ['State.StateChange', true, 1400000000, now, 'iOS'],
  )
  assert.ok(handler.route(query, { now }) instanceof CallbackRequest)
  assert.equal(handler.route(signedQuery(1400000000, 'xxxxyyyy', now), { now }), null)
  assert.throws(
    () => handler.authenticate(query.replace('Sign=1', 'Sign=2'), { now }),
    (e) => e.name === 'SignatureError' && e.code === 'bad_signature',
  )
  const refused = handler.route(query, { now: now + 3600 })
  assert.equal(refused.status, 401)
  assert.equal(refused.errorCode, 'request_time_too_old')
  assert.throws(() => requestListener(handler, decide, { onOther: 'nope' }), TypeError)
})

test('express explains a body parsed too early', async () => {
  const app = express()
  app.use(express.json())
  app.post('/callback', expressMiddleware(handler, decide))
  let seen
  app.use((error, _req, res, _next) => {
    seen = error
    res.status(500).end()
  })
  const server = http.createServer(app)
  try {
    const base = await listen(server)
    const res = await fetch(`${base}/callback?${signedQuery(1400000000, 'xxxxyyyy')}`, {
      method: 'POST',
      body: sampleBody(),
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(res.status, 500)
    assert.equal(seen.name, 'BodyAlreadyConsumed')
    assert.match(seen.message, /mount its middleware before the parser/)
  } finally {
    server.close()
  }
})
