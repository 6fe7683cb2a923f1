'use strict'
/**
 * Adapters for node:http and Express. They read the raw body themselves:
 * nothing may parse it before friendgate does.
 *
 *   http.createServer(requestListener(handler, decide))
 *   app.all('/callback', expressMiddleware(handler, decide))    // every method; no express.json() on this route
 *
 * They serve the app's one callback URL: friend responses are decided by
 * friendgate; an authenticated callback of any other command goes to
 * `onOther(request, body, req, res)` (which writes the response), or, without
 * one, gets core's "processed" answer. Forged ones never reach `onOther`.
 */
const { CallbackRequest, processed, refusal } = require('./index.js')
const { adapterOptions, readBody } = require('./adapter.js')

/** The body was consumed (e.g. by `express.json()`) before friendgate could read it. */
class BodyAlreadyConsumed extends Error {
  constructor() {
    super(
      'the request body was already read by a body parser (express.json(), body-parser, ...); ' +
        'friendgate needs the raw bytes: mount its middleware before the parser, or exclude this path from it',
    )
    this.name = 'BodyAlreadyConsumed'
  }
}

function send(res, reply, { close = false } = {}) {
  const headers = { 'content-type': 'application/json', 'content-length': reply.body.length }
  // A body left unread would be taken for the next request on a kept-alive
  // connection: close it instead (as the gateway does).
  if (close) headers.connection = 'close'
  res.writeHead(reply.status, headers)
  res.end(reply.body)
}

async function answer(handler, decide, req, res, { maxBodyBytes: max, onOther }) {
  if (req.method !== 'POST') {
    const reply = refusal('method_not_allowed', req.method)
    res.setHeader('allow', 'POST')
    return send(res, reply)
  }
  const query = (req.url || '').split('?').slice(1).join('?')
  // Authenticated before the body is read: a forged request costs nothing.
  const routed = handler.route(query)
  if (routed !== null && !(routed instanceof CallbackRequest)) return send(res, routed, { close: !req.readableEnded })
  let body
  try {
    body = await readBody(req, max)
  } catch (error) {
    return send(res, refusal('body_incomplete', error.message))
  }
  if (routed instanceof CallbackRequest) {
    if (onOther) return onOther(routed, body, req, res)
    return send(res, processed())
  }
  send(res, await handler.handleAsync(query, body, decide), { close: req.friendgateUnread === true })
}

/** A `node:http` request listener answering every request as the callback
 * URL; options `{ maxBodyBytes, onOther }`. */
function requestListener(handler, decide, options) {
  const settings = adapterOptions(options)
  return (req, res) => {
    answer(handler, decide, req, res, settings).catch((error) => {
      res.statusCode = 500
      res.end(String(error && error.message))
    })
  }
}

/** An Express middleware (Express 4 or 5) answering the callback URL;
 * options `{ maxBodyBytes, onOther }`. */
function expressMiddleware(handler, decide, options) {
  const settings = adapterOptions(options)
  return (req, res, next) => {
    if (req.readableEnded || (req.body !== undefined && req._body === true)) {
      return next(new BodyAlreadyConsumed())
    }
    Promise.resolve()
      .then(() => answer(handler, decide, req, res, settings))
      .catch(next)
  }
}

module.exports = { BodyAlreadyConsumed, expressMiddleware, requestListener }
