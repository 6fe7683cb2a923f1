'use strict'
// friendgate's handle() with a JS decide, beside a pure-JS handler doing the
// same checks, on the platform's signed sample; then handleAdd() on the
// friend-request sample beside its pure-JS handler. Run: make bench-node
const crypto = require('node:crypto')
const { CallbackHandler, allow, reject } = require('..')
const { signedQuery, sampleBody, sampleAddBody } = require('../lib/testing.js')

const APP_ID = 1400000000
const TOKEN = 'xxxxyyyy'
const CMD = 'Sns.CallbackPrevFriendResponse'
const QUERY = signedQuery(APP_ID, TOKEN)
const BODY = Buffer.from(sampleBody())

const handler = new CallbackHandler({ appIds: [APP_ID], tokens: [TOKEN] })
const decide = (_event, item) => (item.remark.includes('spam') ? reject(38001, 'spam') : allow())
const friendgate = () => handler.handle(QUERY, BODY, decide)

function fail(status, code, info) {
  return { status, body: Buffer.from(JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, ResultItem: [] })) }
}
const short = (value, limit) => typeof value === 'string' && Buffer.byteLength(value) <= limit

/** The checks every command shares: query, Sign, window, JSON, command, accounts. `{ data }` or `{ refused }`. */
function checked(query, body, command) {
  const params = new URLSearchParams(query)
  if (params.get('SdkAppid') !== String(APP_ID)) return { refused: fail(403, 38010, 'foreign app') }
  if (params.get('CallbackCommand') !== command || params.get('contenttype') !== 'json') return { refused: fail(400, 38005, 'bad command') }
  const time = params.get('RequestTime')
  const sign = params.get('Sign')
  if (time === null || sign === null) return { refused: fail(401, 38011, 'missing Sign') }
  const expected = crypto.createHash('sha256').update(TOKEN + time).digest()
  const given = Buffer.from(sign, 'hex')
  if (given.length !== 32 || !crypto.timingSafeEqual(expected, given)) return { refused: fail(401, 38012, 'bad Sign') }
  if (!/^\d+$/.test(time) || Math.abs(Number(time) - Date.now() / 1000) > 60) return { refused: fail(401, 38013, 'stale') }
  if (body.length > 1 << 20) return { refused: fail(413, 38020, 'too large') }
  let data
  try {
    data = JSON.parse(body)
  } catch {
    return { refused: fail(400, 38022, 'bad JSON') }
  }
  if (data === null || typeof data !== 'object' || data.CallbackCommand !== command) return { refused: fail(400, 38029, 'bad command') }
  if (!short(data.Requester_Account, 32) || !short(data.From_Account, 32)) return { refused: fail(400, 38025, 'bad account') }
  return { data }
}

/** What a careful hand-written endpoint does. */
function pureJs(query = QUERY, body = BODY) {
  const { data, refused } = checked(query, body, CMD)
  if (refused) return refused
  if (!Number.isSafeInteger(data.EventTime) || data.EventTime < 0) return fail(400, 38025, 'bad EventTime')
  const items = data.ResponseFriendItem
  if (!Array.isArray(items) || items.length > 1000) return fail(400, 38025, 'bad items')
  const results = []
  for (const item of items) {
    if (!item || typeof item !== 'object' || !short(item.To_Account, 32) || !short(item.Remark ?? '', 96) || !short(item.TagName ?? '', 96) || typeof item.ResponseAction !== 'string') {
      return fail(400, 38025, 'bad item')
    }
    const spam = (item.Remark ?? '').includes('spam')
    results.push({ To_Account: item.To_Account, ResultCode: spam ? 38001 : 0, ResultInfo: spam ? 'spam' : '' })
  }
  return { status: 200, body: Buffer.from(JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ResultItem: results })) }
}

function perCall(fn, rounds = 7, n = 100000) {
  for (let i = 0; i < n; i++) fn() // warm up
  let best = Infinity
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn()
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n)
  }
  return best
}

const ADD = 'Sns.CallbackPrevFriendAdd'
const ADD_QUERY = signedQuery(APP_ID, TOKEN, undefined, { command: ADD })
const ADD_BODY = Buffer.from(sampleAddBody())
const decideAdd = (_event, item) => (item.addWording.includes('spam') ? reject(38010, 'spam') : allow())
const friendgateAdd = () => handler.handleAdd(ADD_QUERY, ADD_BODY, decideAdd)

/** The same careful checks for a friend request (texts of any length). */
function pureJsAdd(query = ADD_QUERY, body = ADD_BODY) {
  const { data, refused } = checked(query, body, ADD)
  if (refused) return refused
  for (const key of ['EventTime', 'ForceAddFlags']) {
    const value = data[key] ?? 0
    if (!Number.isSafeInteger(value) || value < 0) return fail(400, 38025, `bad ${key}`)
  }
  if (typeof (data.AddType ?? '') !== 'string') return fail(400, 38025, 'bad AddType')
  const items = data.FriendItem
  if (!Array.isArray(items) || items.length > 1000) return fail(400, 38025, 'bad items')
  const results = []
  for (const item of items) {
    const texts = ['Remark', 'GroupName', 'AddSource', 'AddWording'].every((key) => typeof (item?.[key] ?? '') === 'string')
    if (!item || typeof item !== 'object' || !short(item.To_Account, 32) || !texts) return fail(400, 38025, 'bad item')
    const spam = (item.AddWording ?? '').includes('spam')
    results.push({ To_Account: item.To_Account, ResultCode: spam ? 38010 : 0, ResultInfo: spam ? 'spam' : '' })
  }
  return { status: 200, body: Buffer.from(JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ResultItem: results })) }
}

function compare(name, ours, theirs) {
  const a = ours()
  const b = theirs()
  if (a.status !== b.status || !a.body.equals(b.body)) throw new Error(`${name}: both must give the same answer bytes`)
  const fg = perCall(ours)
  const js = perCall(theirs)
  console.log(
    `${name}: friendgate ${(fg / 1000).toFixed(2)} us/callback (${Math.round(1e9 / fg).toLocaleString()}/s), ` +
      `pure JS ${(js / 1000).toFixed(2)} us (${Math.round(1e9 / js).toLocaleString()}/s), speed-up ${(js / fg).toFixed(2)}x`,
  )
}

compare('friend responses', friendgate, pureJs)
compare('friend requests ', friendgateAdd, pureJsAdd)
