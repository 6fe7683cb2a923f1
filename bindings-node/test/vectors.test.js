'use strict'
// Every conformance vector through the JavaScript API, byte for byte.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { CallbackHandler, allow, reject } = require('..')

const dir = path.join(__dirname, '..', '..', 'tests', 'vectors')
const FRIEND_ADD = 'Sns.CallbackPrevFriendAdd'
// Friend responses (the top folder), then friend requests (friend_add/).
const load = (folder, command) =>
  fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8')).cases.map((c) => ({ ...c, command })))
const cases = [...load(dir, 'Sns.CallbackPrevFriendResponse'), ...load(path.join(dir, 'friend_add'), FRIEND_ADD)]

const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

function handlerFor(config) {
  const limits = config.limits && Object.fromEntries(Object.entries(config.limits).map(([k, v]) => [camel(k), v]))
  const policy = config.on_decider_error && { ...config.on_decider_error, policy: camel(config.on_decider_error.policy) }
  return new CallbackHandler({
    appIds: config.app_ids,
    tokens: config.tokens,
    windowSeconds: config.window_seconds,
    limits,
    onDeciderError: policy,
  })
}

function scripted(c) {
  const scripts = c.decisions || []
  return (_event, item) => {
    const script = scripts[item.index] ?? 'allow'
    if (script === 'allow') return allow()
    if (script.reject) return reject(script.reject.code, script.reject.info)
    throw new Error(script.fail)
  }
}

const body = (c) => (c.body_base64 !== undefined ? Buffer.from(c.body_base64, 'base64') : Buffer.from(c.body, 'utf8'))

test('there are at least 50 vectors, 40 of friend requests', () => {
  assert.ok(cases.length >= 50)
  assert.ok(cases.filter((c) => c.command === FRIEND_ADD).length >= 40)
})

for (const c of cases) {
  test(`vector ${c.name}`, async () => {
    const handler = handlerFor(c.config)
    const add = c.command === FRIEND_ADD
    const reply = (add ? handler.handleAdd : handler.handle).call(handler, c.query, body(c), scripted(c), { now: c.now })
    assert.equal(reply.status, c.expect.status)
    assert.equal(reply.errorCode, c.expect.error)
    assert.equal(reply.body.toString('utf8'), c.expect.body)
    assert.deepEqual(reply.headers, { 'content-type': 'application/json' })
    const handleAsync = add ? handler.handleAddAsync : handler.handleAsync
    const async = await handleAsync.call(handler, c.query, body(c), async (e, i) => scripted(c)(e, i), { now: c.now })
    assert.equal(async.body.toString('utf8'), c.expect.body)
  })
}
