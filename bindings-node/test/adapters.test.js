'use strict'
// node:http and Express adapters over real HTTP on 127.0.0.1.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const express = require('express')
const { CallbackHandler, allow, reject } = require('..')
const { requestListener, expressMiddleware } = require('../lib/http.js')
const { signedQuery, sampleBody } = require('../lib/testing.js')

const EXPECTED =
  '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"id1","ResultCode":0,"ResultInfo":""},{"To_Account":"id2","ResultCode":38001,"ResultInfo":"no"}]}'
const handler = new CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'] })
const decide = async (_event, item) => (item.toAccount === 'id2' ? reject(38001, 'no') : allow())

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
  res = await fetch(url, { method: 'POST', body: Buffer.alloc(2 << 20, 32) })
  assert.equal(res.status, 413)
}

test('node:http request listener', async () => {
  const server = http.createServer(requestListener(handler, decide))
  try {
    await exchanges(await listen(server))
  } finally {
    server.close()
  }
})

test('express middleware', async () => {
  const app = express()
  app.all('/callback', expressMiddleware(handler, decide))
  const server = http.createServer(app)
  try {
    await exchanges(await listen(server))
  } finally {
    server.close()
  }
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
