'use strict'
// The JavaScript API: decisions, errors, deadline, typed events, ESM entry.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fg = require('..')
const { sign, signedQuery, sampleBody } = require('../lib/testing.js')

const NOW = 1669872112
const handler = new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'] })
const query = signedQuery(1400000000, 'xxxxyyyy', NOW)

test('known Sign and signed queries', () => {
  assert.equal(sign('xxxxyyyy', NOW), '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061')
  assert.match(signedQuery(1400000000, 'xxxxyyyy', NOW, { platform: 'Android', clientIp: '::1' }), /ClientIP=%3A%3A1&OptPlatform=Android/)
  assert.doesNotMatch(signedQuery(1400000000), /Sign=/)
})

test('decide sees the whole context', () => {
  const seen = []
  handler.handle(query, sampleBody(), (event, item) => {
    seen.push([event.sdkAppId, event.platform, event.clientIp, event.fromAccount, event.eventTime.toISOString(), item.index, item.toAccount, item.remark, item.action, item.isAccept])
    return fg.allow()
  }, { now: NOW })
  assert.deepEqual(seen, [
    [1400000000, 'iOS', '127.0.0.1', 'id', '2021-09-16T07:34:05.424Z', 0, 'id1', 'remark1', 'Response_Action_AgreeAndAdd', true],
    [1400000000, 'iOS', '127.0.0.1', 'id', '2021-09-16T07:34:05.424Z', 1, 'id2', 'remark2', 'Response_Action_Reject', false],
  ])
})

test('failing, wrong and async-in-sync deciders get the failure policy', () => {
  const deciders = [
    () => { throw new Error('db down') },
    () => 'yes',
    () => undefined,
    async () => fg.allow(),
  ]
  for (const decide of deciders) {
    const reply = handler.handle(query, sampleBody(), decide, { now: NOW })
    assert.equal(reply.status, 200)
    assert.equal(reply.body.toString().split('"ResultCode":38900,"ResultInfo":"decision unavailable"').length - 1, 2)
  }
  const strict = new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'], onDeciderError: { policy: 'failCallback' } })
  const reply = strict.handle(query, sampleBody(), async () => fg.allow(), { now: NOW })
  assert.equal(reply.status, 500)
  assert.match(reply.body.toString(), /decide returned a Promise, which needs the async handler/)
})

test('wrong values are worded by core, as in every language', () => {
  const seen = []
  const reporting = new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'], onDeciderFailure: (f) => seen.push(f.reason) })
  for (const value of [42, null, undefined]) reporting.handle(query, sampleBody(), () => value, { now: NOW })
  assert.deepEqual(seen.filter((_, i) => i % 2 === 0), [
    'decide returned number, expected allow or reject',
    'decide returned no decision, expected allow or reject',
    'decide returned no decision, expected allow or reject',
  ])
})

test('reject checks its code in core', () => {
  assert.equal(fg.reject(38000, 'a').code, 38000)
  assert.throws(() => fg.reject(37999, 'low'), (e) => e instanceof fg.DecisionError && e.code === 'invalid_result_code' && e.message === 'result code 37999 is outside [38000, 39000]')
  // Status and ErrorCode from core's catalogue, not written in JavaScript.
  assert.throws(() => fg.reject(1.5), (e) => e instanceof fg.DecisionError && e.httpStatus === 500 && e.errorCode === 38030)
  assert.throws(() => fg.reject(38000.5), fg.DecisionError)
  assert.ok(Object.isFrozen(fg.reject(38001, 'x')))
})

test('verify throws by family with core codes', () => {
  const cases = [
    [query.replace('1400000000', '1400000001'), sampleBody(), fg.AppIdError, 'foreign_app_id', 403],
    [query.replace('Sign=1', 'Sign=2'), sampleBody(), fg.SignatureError, 'bad_signature', 401],
    [query, '{', fg.BodyError, 'malformed_json', 400],
    [query, Buffer.alloc(2 << 20), fg.LimitError, 'body_too_large', 413],
  ]
  for (const [q, body, Family, code, status] of cases) {
    assert.throws(() => handler.verify(q, body, { now: NOW }), (e) => {
      assert.ok(e instanceof Family && e instanceof fg.CallbackError && e instanceof Error)
      assert.equal(e.code, code)
      assert.equal(e.httpStatus, status)
      assert.ok(e.errorCode >= 38000 && e.errorCode <= 39000)
      assert.ok(fg.ERROR_CODES.includes(code))
      return true
    })
  }
})

test('a failing decider is reported to onDeciderFailure, or as a process warning', async () => {
  const seen = []
  const reporting = new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'], onDeciderFailure: (f) => seen.push(f) })
  const body = sampleBody()
  const decide = (event, item) => {
    if (item.index === 1) throw new Error('moderation service unreachable')
    return fg.allow()
  }
  const reply = reporting.handle(query, body, decide, { now: NOW })
  assert.ok(reply.body.toString().includes('"ResultCode":38900'))
  // Core's rows, as in every binding: the item, the reason, core's report.
  assert.deepEqual(seen, [{
    index: 1,
    toAccount: 'id2',
    reason: 'moderation service unreachable',
    report: 'decision for item 1 (To_Account "id2") failed: moderation service unreachable; answered by the failure policy',
  }])
  await reporting.handleAsync(query, body, async () => 42, { now: NOW })
  assert.equal(seen.length, 3)
  // Warnings of earlier tests may still be on their way: wait for this one.
  const warned = new Promise((resolve) => {
    const listener = (warning) => {
      if (!warning.message.includes('moderation')) return
      process.off('warning', listener)
      resolve(warning)
    }
    process.on('warning', listener)
  })
  new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'] }).handle(query, body, decide, { now: NOW })
  const warning = await warned
  assert.equal(warning.code, 'FRIENDGATE_DECIDER_FAILED')
  assert.match(warning.message, /item 1 \(To_Account "id2"\) failed: moderation service unreachable/)
  assert.ok(!warning.message.includes('xxxxyyyy'))
})

test('handleAsync: the deciders of one callback run concurrently', async () => {
  const body = sampleBody({ items: 20 })
  const lookup = async () => {
    await new Promise((resolve) => setTimeout(resolve, 50)) // a 50 ms lookup per item
    return fg.allow()
  }
  const started = process.hrtime.bigint()
  const reply = await handler.handleAsync(query, body, lookup, { now: NOW })
  const took = Number(process.hrtime.bigint() - started) / 1e9
  assert.equal(reply.status, 200)
  assert.equal(reply.body.toString().split('"ResultCode":0').length - 1, 20)
  // One after another, 20 lookups take a second.
  assert.ok(took < 0.5, `${took.toFixed(3)} s`)
})

test('configuration errors', () => {
  assert.throws(() => new fg.CallbackHandler({ appIds: [] }), (e) => e instanceof fg.ConfigurationError && e.code === 'no_app_ids')
  assert.throws(() => new fg.CallbackHandler({ appIds: [1], limits: { maxItemz: 3 } }), /unknown field `max_itemz`/)
  assert.throws(() => new fg.CallbackHandler({ appIds: [1], colour: 'red' }), (e) => e.code === 'invalid_setting' && /unknown field `colour`/.test(e.message))
  assert.throws(() => new fg.CallbackHandler({ appIds: [1], toleranceSeconds: 5 }), (e) => e.code === 'invalid_setting')
  // Core's code and message, the same in every language.
  assert.throws(
    () => new fg.CallbackHandler({ appIds: [1], onDeciderError: { policy: 'reject', code: 5 } }),
    (e) => e instanceof fg.ConfigurationError && e.code === 'invalid_result_code' &&
      e.message === 'on_decider_error.code: result code 5 is outside [38000, 39000]',
  )
  assert.equal(new fg.CallbackHandler({ appIds: [1], windowSeconds: 5 }) instanceof fg.CallbackHandler, true)
  assert.equal(new fg.CallbackHandler({ appIds: [1], deciderDeadlineMs: 250 }).deciderDeadlineMs, 250)
})

test('handleAsync: late deciders get the failure policy within the deadline', async () => {
  const quick = new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'], deciderDeadlineMs: 100 })
  const started = Date.now()
  const reply = await quick.handleAsync(query, sampleBody(), (_e, item) =>
    item.index === 1 ? new Promise((resolve) => setTimeout(() => resolve(fg.allow()), 2000).unref()) : fg.allow(), { now: NOW })
  assert.ok(Date.now() - started < 1000)
  assert.match(reply.body.toString(), /\{"To_Account":"id1","ResultCode":0,"ResultInfo":""\}/)
  assert.match(reply.body.toString(), /\{"To_Account":"id2","ResultCode":38900,"ResultInfo":"decision unavailable"\}/)
  const strict = new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'], deciderDeadlineMs: 50, onDeciderError: { policy: 'failCallback' } })
  const failed = await strict.handleAsync(query, sampleBody(), () => new Promise(() => {}), { now: NOW })
  assert.equal(failed.status, 500)
  assert.match(failed.body.toString(), /decider deadline exceeded/)
})

test('response builder writes core bytes', () => {
  assert.equal(
    fg.Response.allowAll(['a', 'b']).reject('b', 38001, 'spam').toBuffer().toString(),
    '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":0,"ResultInfo":""},{"To_Account":"b","ResultCode":38001,"ResultInfo":"spam"}]}',
  )
  assert.equal(fg.Response.fail(38500, 'down').toBuffer().toString(), '{"ActionStatus":"FAIL","ErrorCode":38500,"ErrorInfo":"down","ResultItem":[]}')
  assert.throws(() => fg.Response.fail(1, 'x'))
})

test('ES module entry exports the same objects', async () => {
  const esm = await import('../lib/index.mjs')
  assert.equal(esm.CallbackHandler, fg.CallbackHandler)
  assert.equal(esm.default.allow, fg.allow)
  const testing = await import('../lib/testing.mjs')
  assert.equal(testing.sign('xxxxyyyy', NOW), sign('xxxxyyyy', NOW))
})

test('one handler, many concurrent callbacks', async () => {
  const replies = await Promise.all(
    Array.from({ length: 200 }, (_, n) =>
      handler.handleAsync(query, sampleBody({ items: (n % 5) + 1, fromAccount: `user${n}` }), async (event) => fg.reject(38001, event.fromAccount), { now: NOW }),
    ),
  )
  replies.forEach((reply, n) => {
    assert.equal(reply.status, 200)
    assert.equal(reply.body.toString().split(`"ResultInfo":"user${n}"`).length - 1, (n % 5) + 1)
  })
})

test('handleAsync parses a large body off the event loop', async () => {
  const big = new fg.CallbackHandler({ appIds: [1400000000], tokens: ['xxxxyyyy'], limits: { maxItems: 20000 } })
  const body = sampleBody({ items: 8000 })
  assert.ok(body.length > 512 * 1024)
  // Parsing on the loop would make the call itself take (nearly) all the time.
  const started = process.hrtime.bigint()
  const pending = big.handleAsync(query, body, undefined, { now: NOW })
  const returned = process.hrtime.bigint() - started
  const reply = await pending
  const total = process.hrtime.bigint() - started
  assert.equal(reply.status, 200)
  assert.equal(reply.body.toString().split('"ResultCode":0').length - 1, 8000)
  assert.ok(returned * 4n < total, `the call returned after ${returned} of ${total} ns`)
})

test('the error catalogue is core\'s, as in every binding', () => {
  assert.deepEqual(fg.ERROR_CATALOGUE.map((entry) => entry.code), [...fg.ERROR_CODES])
  const bad = fg.ERROR_CATALOGUE.find((entry) => entry.code === 'bad_signature')
  assert.deepEqual({ ...bad }, { code: 'bad_signature', errorCode: 38012, httpStatus: 401, family: 'signature' })
  assert.ok(Object.isFrozen(fg.ERROR_CATALOGUE) && Object.isFrozen(bad))
})

test('refusal with a code that is no transport refusal throws core\'s message', () => {
  assert.equal(fg.refusal('overloaded').status, 503)
  assert.throws(() => fg.refusal('bad_signature'), {
    message: 'bad_signature is not a transport refusal (method_not_allowed, request_timeout, overloaded, body_incomplete)',
  })
})

test('a bad setting gets core\'s message naming it, as in every binding', () => {
  assert.throws(() => new fg.CallbackHandler({ appIds: [-1] }), {
    code: 'invalid_setting',
    message: 'app_ids[0]: invalid value: integer `-1`, expected u64',
  })
})
