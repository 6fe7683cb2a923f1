'use strict'
/**
 * Adapters for node:http and Express. They read the raw body themselves:
 * nothing may parse it before friendgate does.
 *
 *   http.createServer(requestListener(handler, decide))
 *   app.all('/callback', expressMiddleware(handler, decide))    // every method; no express.json() on this route
 *
 * They serve the app's one callback URL: friend responses are decided by
 * `decide`, friend requests (Sns.CallbackPrevFriendAdd) by `decideAdd`; an authenticated callback of any other command goes to
 * `onOther(request, body, req, res)` (which writes the response), or, without
 * one, gets core's "processed" answer. Forged ones never reach `onOther`.
 */
const { adapterOptions, serveCallback } = require('./adapter.js')

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
  const headers = { ...reply.headers, 'content-length': reply.body.length }
  // A body left unread would be taken for the next request on a kept-alive
  // connection: close it instead (as the gateway does).
  if (close) headers.connection = 'close'
  res.writeHead(reply.status, headers)
  res.end(reply.body)
}

function answer(handler, decide, req, res, settings) {
  return serveCallback(handler, decide, req, settings, {
    send: (reply, options) => send(res, reply, options),
    other: (request, body) => settings.onOther(request, body, req, res),
  })
}

/** A `node:http` request listener answering every request as the callback
 * URL; options `{ maxBodyBytes, onOther, decideAdd }`. */
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
 * options `{ maxBodyBytes, onOther, decideAdd }`. */
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
