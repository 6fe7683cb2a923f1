'use strict'
/**
 * friendgate: answer Tencent Cloud Chat's Sns.CallbackPrevFriendResponse
 * callback. Every check, limit, error and answer byte is friendgate-core's
 * (Rust, through N-API); this file adds JavaScript idioms.
 */
const native = require('../native.js')

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

function errorFrom(reply) {
  const Family = FAMILIES[reply.family] || CallbackError
  return new Family(reply.code, reply.status, reply.errorCode, reply.message)
}

/** Let the friend response through. */
class Allow {}
const ALLOW = Object.freeze(new Allow())

/** Do not let it through: `code` in [38000, 39000] (checked now by core), `info` the reason. */
class Reject {
  constructor(code, info = '') {
    const why = native.checkResultCode(code)
    if (why !== null || !Number.isInteger(code)) {
      throw new DecisionError('invalid_result_code', 500, 38030, why || `result code ${code} is not an integer`)
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

function nativeOptions({ appIds, tokens = [], toleranceSeconds, limits, onDeciderError, deciderDeadlineMs, ...rest } = {}) {
  const unknown = Object.keys(rest)
  if (unknown.length) throw new ConfigurationError('invalid_setting', `unknown option ${unknown.join(', ')}`)
  const options = { appIds, tokens }
  if (toleranceSeconds !== undefined) options.toleranceSeconds = toleranceSeconds
  if (deciderDeadlineMs !== undefined) options.deciderDeadlineMs = deciderDeadlineMs
  if (limits !== undefined) {
    options.limits = Object.fromEntries(Object.entries(limits).map(([k, v]) => [snake(k), v]))
  }
  if (onDeciderError !== undefined) {
    options.onDeciderError = { ...onDeciderError, policy: snake(String(onDeciderError.policy)) }
  }
  return JSON.stringify(options)
}

function toReply(reply) {
  return { status: reply.status, headers: JSON_HEADERS, body: reply.body, errorCode: reply.code ?? null }
}

function toBody(body) {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return body
  if (typeof body === 'string') return Buffer.from(body)
  throw new TypeError('body must be a Buffer, Uint8Array or string')
}

function parseEvent(pending) {
  const event = JSON.parse(pending.event)
  event.eventTime = new Date(event.eventTimeMs)
  return event
}

/** One decision as the native outcome arrays hold it. */
function encode(decision, codes, infos, index) {
  if (decision instanceof Allow) {
    codes[index] = 0
    infos[index] = ''
  } else if (decision instanceof Reject) {
    codes[index] = decision.code
    infos[index] = decision.info
  } else {
    codes[index] = FAILED
    infos[index] =
      decision && typeof decision.then === 'function'
        ? 'decide returned a Promise; use handleAsync for async deciders'
        : `decide returned ${decision === null ? 'null' : typeof decision}, expected allow() or reject(code, info)`
  }
}

function failure(codes, infos, index, error) {
  codes[index] = FAILED
  infos[index] = error && error.message !== undefined ? String(error.message) : String(error)
}

/** Verifies and answers callbacks for your app ids and tokens. Immutable; share one per process. */
class CallbackHandler {
  /**
   * @param {object} options `{ appIds, tokens = [], toleranceSeconds = 60, limits, onDeciderError, deciderDeadlineMs = 1500 }`
   */
  constructor(options) {
    try {
      this.#native = new native.NativeHandler(nativeOptions(options))
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

  /** Milliseconds all decisions of one callback may take (handleAsync). */
  get deciderDeadlineMs() {
    return this.#native.deciderDeadlineMs
  }

  /**
   * Verifies and answers one callback. `decide(event, item)` returns `allow()`
   * or `reject(code, info)`; if it throws or returns anything else, that item
   * gets the failure policy (default: rejected with 38900).
   * @returns {{status: number, headers: object, body: Buffer, errorCode: string|null}}
   */
  handle(query, body, decide, { now } = {}) {
    const started = this.#native.begin(String(query ?? ''), toBody(body), now)
    if (!(started instanceof native.Pending)) return toReply(started)
    const event = parseEvent(started)
    const items = event.items
    const codes = new Array(items.length)
    const infos = new Array(items.length)
    for (let i = 0; i < items.length; i++) {
      try {
        encode(decide ? decide(event, items[i]) : ALLOW, codes, infos, i)
      } catch (error) {
        failure(codes, infos, i, error)
      }
    }
    return toReply(this.#native.finish(started, codes, infos))
  }

  /**
   * Like `handle`, but `decide` may return a Promise. All decisions share one
   * deadline (`deciderDeadlineMs`); items not decided in time get the failure
   * policy, well before the platform's 2 s.
   */
  async handleAsync(query, body, decide, { now } = {}) {
    const started = this.#native.begin(String(query ?? ''), toBody(body), now)
    if (!(started instanceof native.Pending)) return toReply(started)
    const event = parseEvent(started)
    const items = event.items
    const codes = new Array(items.length).fill(LATE)
    const infos = new Array(items.length).fill('')
    let timer
    const deadline = new Promise((resolve) => {
      timer = setTimeout(resolve, this.#native.deciderDeadlineMs)
    })
    const decided = Promise.all(
      items.map(async (item, i) => {
        try {
          const decision = decide ? await decide(event, item) : ALLOW
          encode(decision, codes, infos, i)
        } catch (error) {
          failure(codes, infos, i, error)
        }
      }),
    )
    try {
      await Promise.race([decided, deadline])
    } finally {
      clearTimeout(timer)
    }
    // Late items keep LATE even if they settle after this point.
    return toReply(this.#native.finish(started, codes.slice(), infos.slice()))
  }

  /** Verifies a callback and returns it typed, or throws a CallbackError subclass. */
  verify(query, body, { now } = {}) {
    const started = this.#native.begin(String(query ?? ''), toBody(body), now)
    if (!(started instanceof native.Pending)) throw errorFrom(started)
    return parseEvent(started)
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
  ConfigurationError,
  DecisionError,
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
}
