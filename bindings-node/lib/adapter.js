'use strict'
// What the node:http, Express and Fastify adapters share (internal: not in
// the package's exports).

const { CallbackRequest, processed, refusal } = require('./index.js')

const DEFAULT_MAX_BODY = 1 << 20

/** Reads the raw body, stopping one byte past `max` (core then refuses it as too large). */
function readBody(req, max) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    let done = false
    const finish = (fn, value) => {
      if (!done) {
        done = true
        fn(value)
      }
    }
    req.on('data', (chunk) => {
      chunks.push(chunk)
      size += chunk.length
      if (size > max) {
        req.pause()
        // The rest stays unread: the connection cannot carry another request.
        req.friendgateUnread = true
        finish(resolve, Buffer.concat(chunks, size))
      }
    })
    req.on('end', () => finish(resolve, Buffer.concat(chunks, size)))
    req.on('error', (error) => finish(reject, error))
    req.on('aborted', () => finish(reject, new Error('client aborted the request')))
  })
}

function adapterOptions({ maxBodyBytes = DEFAULT_MAX_BODY, onOther, decideAdd } = {}) {
  if (onOther !== undefined && typeof onOther !== 'function') throw new TypeError('onOther must be a function')
  if (decideAdd !== undefined && typeof decideAdd !== 'function') throw new TypeError('decideAdd must be a function')
  return { maxBodyBytes, onOther, decideAdd }
}

/**
 * The callback URL's flow, the same in every adapter: any method but POST
 * gets core's 405; the query is authenticated before a byte of the body is
 * read (a forged request costs nothing, and its connection closes with the
 * body unread); then a friend response is decided by `decide`, a friend
 * request by `decideAdd` (absent: allowed), and another command goes
 * to `onOther` (or gets core's "processed" answer). `io.send(reply,
 * { close })` writes a core reply with its headers; `io.other(request, body)` hands
 * another command to the app's handler.
 */
async function serveCallback(handler, decide, req, { maxBodyBytes, onOther, decideAdd }, io) {
  if (req.method !== 'POST') return io.send(refusal('method_not_allowed', req.method))
  const query = (req.url || '').split('?').slice(1).join('?')
  const routed = handler.route(query)
  if (routed !== null && !(routed instanceof CallbackRequest)) return io.send(routed, { close: !req.readableEnded })
  let body
  try {
    body = await readBody(req, maxBodyBytes)
  } catch (error) {
    return io.send(refusal('body_incomplete', error.message))
  }
  if (routed instanceof CallbackRequest) return onOther ? io.other(routed, body) : io.send(processed())
  return io.send(await handler.answerAsync(query, body, decide, decideAdd), { close: req.friendgateUnread === true })
}

module.exports = { adapterOptions, serveCallback }
