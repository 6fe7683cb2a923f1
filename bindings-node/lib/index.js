'use strict'
/**
 * friendgate: answer Tencent Cloud Chat's friend callbacks,
 * Sns.CallbackPrevFriendResponse and Sns.CallbackPrevFriendAdd. Every check,
 * limit, error and answer byte is friendgate-core's (Rust, through N-API);
 * this file adds JavaScript idioms.
 */
const native = require('./addon.js')

const FAILED = -1
const LATE = -2
const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' })

/** A refused callback, with friendgate-core's code, HTTP status, ErrorCode and message. */
class CallbackError extends Error {
  constructor(code, httpStatus, errorCode, message) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.httpStatus = httpStatus
    this.errorCode = errorCode
  }
}
/** The query string is malformed or names another callback. */
class QueryError extends CallbackError {}
/** SdkAppid is not one of this endpoint's app ids. */
class AppIdError extends CallbackError {}
/** Sign or RequestTime is missing, wrong, or outside the window. */
class SignatureError extends CallbackError {}
/** The body is not a well-formed callback body. */
class BodyError extends CallbackError {}
/** A size limit was exceeded. */
class LimitError extends CallbackError {}
/** A decision is invalid (a result code outside [38000, 39000]). */
class DecisionError extends CallbackError {}
/** The HTTP exchange failed (method, deadline, load, incomplete body). */
class TransportError extends CallbackError {}
/** Options friendgate-core refuses (no app ids, a bad limit...). */
class ConfigurationError extends Error {
  constructor(code, message) {
    super(message)
    this.name = 'ConfigurationError'
    this.code = code
  }
}
const FAMILIES = {
  query: QueryError,
  app_id: AppIdError,
  signature: SignatureError,
  body: BodyError,
  limit: LimitError,
  decision: DecisionError,
  transport: TransportError,
}

/** Core's error catalogue by code. */
const CATALOGUE = new Map(native.errorCatalogue().map((entry) => [entry.code, entry]))

/** The error of core's catalogue named `code`, with `message`. */
function catalogued(code, message) {
  const entry = CATALOGUE.get(code)
  const Family = FAMILIES[entry.family] || CallbackError
  return new Family(entry.code, entry.httpStatus, entry.errorCode, message)
}

function errorFrom(refusal) {
  const Family = FAMILIES[refusal.family] || CallbackError
  return new Family(refusal.code, refusal.status, refusal.errorCode, refusal.message)
}

/** An authenticated callback of any command (the app's one callback URL
 * receives them all): what a handler for another callback gets. */
class CallbackRequest {
  constructor(fields) {
    this.command = fields.command
    this.commandKnown = fields.commandKnown
    this.sdkAppId = fields.sdkAppId
    this.platform = fields.platform ?? null
    this.platformKnown = fields.platformKnown
    this.clientIp = fields.clientIp ?? null
    this.requestTime = fields.requestTime ?? null
    Object.freeze(this)
  }
}

const QUESTION = 63 // '?': an authenticated request follows, as JSON

/** Let the friend response through. */
class Allow {}
const ALLOW = Object.freeze(new Allow())

/** Do not let it through: `code` in [38000, 39000] (checked now by core), `info` the reason. */
class Reject {
  constructor(code, info = '') {
    const why = native.checkResultCode(code)
    if (why !== null || !Number.isInteger(code)) {
      throw catalogued('invalid_result_code', why || `result code ${code} is not an integer`)
    }
    this.code = code
    this.info = String(info)
    Object.freeze(this)
  }
}

/** `allow()`: the decision to let a response through. */
const allow = () => ALLOW
/** `reject(code, info)`: the decision to block a response. */
const reject = (code, info = '') => new Reject(code, info)

const snake = (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** The options as core's ConfigSpec reads them: the same names in snake_case
 * (core checks every key, type and value, with its own codes and messages). */
function nativeOptions(options = {}) {
  const spec = {}
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue
    if (key === 'limits' && value !== null && typeof value === 'object') {
      spec.limits = Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), v]))
    } else if (key === 'onDeciderError' && value !== null && typeof value === 'object') {
      spec.on_decider_error = { ...value, policy: snake(String(value.policy)) }
    } else {
      spec[snake(key)] = value
    }
  }
  return JSON.stringify(spec)
}

function toReply(reply) {
  return { status: reply.status, headers: Object.freeze(reply.headers), body: reply.body, errorCode: reply.code ?? null }
}

const BANG = 33 // '!': a refusal follows, as JSON
const OFF_LOOP_ABOVE = 64 * 1024

/** A refusal from the native side: the reply, and the error it carries. */
function refused(text) {
  const r = JSON.parse(text.slice(1))
  const reply = { status: r.status, headers: JSON_HEADERS, body: Buffer.from(r.body), errorCode: r.code }
  Object.defineProperty(reply, 'error', { value: r, enumerable: false })
  return reply
}

function toBody(body) {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return body
  if (typeof body === 'string') return Buffer.from(body)
  throw new TypeError('body must be a Buffer, Uint8Array or string')
}

/** A verified callback (see index.d.ts); `eventTime` is made on first use. */
class FriendResponseEvent {
  get eventTime() {
    return new Date(this.eventTimeMs)
  }
}

/** A verified friend request (see index.d.ts). */
class FriendAddEvent {
  get eventTime() {
    return new Date(this.eventTimeMs)
  }
}

/** Which friend commands the native `begin` answers. */
const WANT_RESPONSE = 0
const WANT_ADD = 1
const WANT_EITHER = 2
const AMP = 38 // '&': a friend request's wire follows

/**
 * A reader of the native side's `[&]slot:numbers;strings` (event_wire and
 * add_event_wire in src/request.rs): its slot, its numbers, and `take()`
 * for the next string (the lengths follow the `count` numbers).
 */
function wire(text, count) {
  const colon = text.indexOf(':')
  const semi = text.indexOf(';', colon)
  const n = text.slice(colon + 1, semi).split(',')
  let pos = semi + 1
  let len = count
  const take = () => {
    const start = pos
    pos += +n[len++]
    return text.slice(start, pos)
  }
  const slot = +text.slice(text.charCodeAt(0) === AMP ? 1 : 0, colon)
  return { slot, n, take }
}

/** What every friend event has: app id, platform, client IP, request time, accounts. */
function common(event, n, take) {
  const platform = take()
  const clientIp = take()
  event.sdkAppId = +n[1]
  event.platform = n[5] === '1' ? platform : null
  event.platformKnown = n[4] === '1'
  event.clientIp = n[6] === '1' ? clientIp : null
  event.requestTime = n[3] === '-1' ? null : +n[3]
  event.requesterAccount = take()
  event.fromAccount = take()
  event.eventTimeMs = +n[2]
  return event
}

/** The slot and the typed event of a verified friend callback. */
function started(text) {
  if (text.charCodeAt(0) === AMP) return startedAdd(text)
  const count = +text.slice(text.indexOf(':') + 1, text.indexOf(','))
  const { slot, n, take } = wire(text, 7 + 2 * count)
  const event = common(new FriendResponseEvent(), n, take)
  event.items = new Array(count)
  for (let i = 0; i < count; i++) {
    event.items[i] = {
      index: i,
      toAccount: take(),
      remark: take(),
      tagName: take(),
      action: take(),
      actionKnown: n[7 + 2 * i] === '1',
      isAccept: n[8 + 2 * i] === '1',
    }
  }
  return { slot, event, add: false }
}

/** A friend request's `&slot:numbers;strings`. */
function startedAdd(text) {
  const { slot, n, take } = wire(text, 9)
  const count = +n[0]
  const event = common(new FriendAddEvent(), n, take)
  event.addType = take()
  event.addTypeKnown = n[7] === '1'
  event.forceAddFlags = +n[8]
  event.items = new Array(count)
  for (let i = 0; i < count; i++) {
    event.items[i] = {
      index: i,
      toAccount: take(),
      remark: take(),
      groupName: take(),
      addSource: take(),
      addWording: take(),
    }
  }
  return { slot, event, add: true }
}

/** Records one decision in the outcome arrays sent to core. */
function record(state, index, decision) {
  if (decision instanceof Allow) {
    state.codes[index] = 0
  } else if (decision instanceof Reject) {
    state.codes[index] = decision.code
    info(state, index, decision.info)
  } else {
    state.codes[index] = FAILED
    info(state, index, wrongReturn(decision))
  }
}

/** Core's reason for a value that is no decision. */
function wrongReturn(value) {
  if (value === null || value === undefined) return native.wrongReturn('nothing', '')
  if (typeof value.then === 'function') return native.wrongReturn('pending', 'a Promise')
  return native.wrongReturn('other', typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value)
}

function info(state, index, text) {
  if (state.infos === null) state.infos = new Array(state.count).fill('')
  state.infos[index] = text
}

function failed(state, index, error) {
  state.codes[index] = FAILED
  info(state, index, error && error.message !== undefined ? String(error.message) : String(error))
}

/** The default `onDeciderFailure`: a process warning naming the item (core's report). */
function warnDeciderFailure({ report }) {
  process.emitWarning(report, {
    type: 'FriendgateDeciderWarning',
    code: 'FRIENDGATE_DECIDER_FAILED',
  })
}

/** Verifies and answers callbacks for your app ids and tokens. Immutable; share one per process. */
class CallbackHandler {
  /**
   * @param {object} options `{ appIds, tokens = [], windowSeconds = 60, limits, onDeciderError, deciderDeadlineMs = 1500, onDeciderFailure }`;
   *   `onDeciderFailure({ index, toAccount, reason, report })` is told of every failed decision
   *   (default: `process.emitWarning` with code `FRIENDGATE_DECIDER_FAILED`).
   */
  constructor(options) {
    // A host hook, not a setting of core's: kept here.
    const { onDeciderFailure, ...settings } = options ?? {}
    if (onDeciderFailure !== undefined && typeof onDeciderFailure !== 'function') {
      throw new ConfigurationError('invalid_setting', 'onDeciderFailure must be a function')
    }
    this.#onDeciderFailure = onDeciderFailure ?? warnDeciderFailure
    try {
      this.#native = new native.NativeHandler(nativeOptions(settings))
    } catch (error) {
      if (error instanceof ConfigurationError) throw error
      let parsed
      try {
        parsed = JSON.parse(error.message)
      } catch {
        throw error
      }
      throw new ConfigurationError(parsed.code, parsed.message)
    }
    Object.freeze(this)
  }

  #native
  #codes = new Int32Array(16)
  #onDeciderFailure

  /** Milliseconds all decisions of one callback may take (handleAsync). */
  get deciderDeadlineMs() {
    return this.#native.deciderDeadlineMs
  }

  /**
   * Verifies and answers one friend response. `decide(event, item)` returns
   * `allow()` or `reject(code, info)`; if it throws or returns anything
   * else, that item gets the failure policy (default: rejected with 38900).
   * @returns {{status: number, headers: object, body: Buffer, errorCode: string|null}}
   */
  handle(query, body, decide, { now } = {}) {
    return this.#decideSync(WANT_RESPONSE, query, body, decide, undefined, now)
  }

  /** `handle` for a friend request (Sns.CallbackPrevFriendAdd): `decide(event, item)` gets a FriendAddEvent and an AddItem. */
  handleAdd(query, body, decide, { now } = {}) {
    return this.#decideSync(WANT_ADD, query, body, undefined, decide, now)
  }

  /** Either friend callback at the one URL, by its command: a response with `decide`, a request with `decideAdd`. */
  answer(query, body, decide, decideAdd, { now } = {}) {
    return this.#decideSync(WANT_EITHER, query, body, decide, decideAdd, now)
  }

  #decideSync(want, query, body, decideResponse, decideAdd, now) {
    const text = this.#native.begin(String(query ?? ''), toBody(body), now, want)
    if (text.charCodeAt(0) === BANG) return refused(text)
    const { slot, event, add } = started(text)
    const decide = add ? decideAdd : decideResponse
    const items = event.items
    // A synchronous call cannot interleave with itself: reuse one outcome array.
    if (this.#codes.length < items.length) this.#codes = new Int32Array(Math.max(items.length, 2 * this.#codes.length))
    const state = { codes: this.#codes, count: items.length, infos: null, toAccounts: null }
    state.codes.fill(0, 0, items.length)
    if (decide) {
      for (let i = 0; i < items.length; i++) {
        try {
          record(state, i, decide(event, items[i]))
        } catch (error) {
          failed(state, i, error)
        }
      }
    }
    state.toAccounts = items.map((item) => item.toAccount)
    return this.#finish(slot, state)
  }

  /**
   * Like `handle`, but `decide` may return a Promise. All decisions share one
   * deadline (`deciderDeadlineMs`); items not decided in time get the failure
   * policy, well before the platform's 2 s.
   */
  handleAsync(query, body, decide, { now } = {}) {
    return this.#decideAsync(WANT_RESPONSE, query, body, decide, undefined, now)
  }

  /** `handleAsync` for a friend request. */
  handleAddAsync(query, body, decide, { now } = {}) {
    return this.#decideAsync(WANT_ADD, query, body, undefined, decide, now)
  }

  /** `answer` with deciders that may return Promises (what the adapters call). */
  answerAsync(query, body, decide, decideAdd, { now } = {}) {
    return this.#decideAsync(WANT_EITHER, query, body, decide, decideAdd, now)
  }

  async #decideAsync(want, query, body, decideResponse, decideAdd, now) {
    const bytes = toBody(body)
    // Large bodies are verified on libuv's thread pool: the loop keeps running.
    const text =
      bytes.length > OFF_LOOP_ABOVE
        ? await this.#native.beginAsync(String(query ?? ''), bytes, now, want)
        : this.#native.begin(String(query ?? ''), bytes, now, want)
    if (text.charCodeAt(0) === BANG) return refused(text)
    const { slot, event, add } = started(text)
    const decide = add ? decideAdd : decideResponse
    const items = event.items
    const state = { codes: new Int32Array(items.length).fill(LATE), count: items.length, infos: null, toAccounts: null }
    let open = true
    let timer
    try {
      const deadline = new Promise((resolve) => {
        timer = setTimeout(resolve, this.#native.deciderDeadlineMs)
      })
      const decided = Promise.all(
        items.map(async (item, i) => {
          try {
            const decision = decide ? await decide(event, item) : ALLOW
            if (open) record(state, i, decision)
          } catch (error) {
            if (open) failed(state, i, error)
          }
        }),
      )
      await Promise.race([decided, deadline])
    } finally {
      clearTimeout(timer)
      open = false // decisions arriving after the deadline are ignored
    }
    state.toAccounts = items.map((item) => item.toAccount)
    return this.#finish(slot, state)
  }

  #finish(slot, state) {
    this.#report(slot, state)
    const out = this.#native.finish(slot, state.codes, state.count, state.infos ?? undefined)
    if (out.charCodeAt(0) === BANG) return refused(out)
    return { status: 200, headers: JSON_HEADERS, body: Buffer.from(out), errorCode: null }
  }

  /** Tells the host about each failed decision (the failure policy answers it). */
  #report(slot, state) {
    for (let i = 0; i < state.count; i++) {
      const code = state.codes[i]
      if (code !== FAILED && code !== LATE) continue
      const reason = code === LATE ? 'decider deadline exceeded' : (state.infos?.[i] ?? 'decider failed')
      const toAccount = state.toAccounts?.[i] ?? ''
      try {
        this.#onDeciderFailure({ index: i, toAccount, reason, report: native.failureReport(i, toAccount, reason) })
      } catch {
        // A failing hook must not cost the callback its answer.
      }
    }
  }

  /**
   * Authenticates the query of a callback of any command (app id, Sign,
   * window) and returns it as a CallbackRequest, or throws a CallbackError
   * subclass: for the app's own handlers of its other callbacks.
   */
  authenticate(query, { now } = {}) {
    const text = this.#native.authenticate(String(query ?? ''), now)
    if (text.charCodeAt(0) === BANG) throw errorFrom(refused(text).error)
    return new CallbackRequest(JSON.parse(text.slice(1)))
  }

  /**
   * Where a request on the one callback URL goes: `null` for a friend
   * callback friendgate decides (a response or a request: answer it with
   * `answer`), a CallbackRequest for an authenticated callback of another
   * command, or the reply refusing it.
   */
  route(query, { now } = {}) {
    const text = this.#native.route(String(query ?? ''), now)
    if (text === '') return null
    if (text.charCodeAt(0) === QUESTION) return new CallbackRequest(JSON.parse(text.slice(1)))
    return refused(text)
  }

  /** Verifies a friend response and returns it typed, or throws a CallbackError subclass. */
  verify(query, body, { now } = {}) {
    return this.#verify(WANT_RESPONSE, query, body, now)
  }

  /** `verify` for a friend request: a FriendAddEvent. */
  verifyAdd(query, body, { now } = {}) {
    return this.#verify(WANT_ADD, query, body, now)
  }

  #verify(want, query, body, now) {
    const text = this.#native.begin(String(query ?? ''), toBody(body), now, want)
    if (text.charCodeAt(0) === BANG) throw errorFrom(refused(text).error)
    const { slot, event } = started(text)
    this.#native.discard(slot)
    return event
  }
}

/** An answer built by hand (bytes written by core):
 * `Response.allowAll(['id1', 'id2']).reject('id2', 38001, 'spam').toBuffer()`,
 * `Response.fail(38500, 'maintenance').toBuffer()`. */
class Response {
  static allowAll(accounts) {
    return new Response(accounts.map((to) => [String(to), ALLOW]))
  }

  static fail(code, info = '') {
    const bytes = native.failBytes(code, String(info))
    return { toBuffer: () => bytes }
  }

  constructor(entries = []) {
    this.entries = entries
  }

  /** Rejects every item for `account`. */
  reject(account, code, info = '') {
    const decision = new Reject(code, info)
    this.entries = this.entries.map(([to, d]) => [to, to === account ? decision : d])
    return this
  }

  toBuffer() {
    const codes = this.entries.map(([, d]) => (d instanceof Reject ? d.code : 0))
    const infos = this.entries.map(([, d]) => (d instanceof Reject ? d.info : ''))
    return native.answerBytes(this.entries.map(([to]) => to), codes, infos)
  }
}

module.exports = {
  Allow,
  AppIdError,
  BodyError,
  CallbackError,
  CallbackHandler,
  CallbackRequest,
  ConfigurationError,
  DecisionError,
  ERROR_CATALOGUE: Object.freeze([...CATALOGUE.values()].map((entry) => Object.freeze({ ...entry }))),
  ERROR_CODES: Object.freeze(native.errorCodes()),
  LimitError,
  QueryError,
  Reject,
  Response,
  SignatureError,
  TransportError,
  allow,
  reject,
  refusal: (code, detail) => toReply(native.refusal(code, detail)),
  processed: () => toReply(native.processed()),
}
