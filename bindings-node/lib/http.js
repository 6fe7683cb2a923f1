'use strict'
/**
 * Adapters for node:http and Express. They read the raw body themselves:
 * nothing may parse it before friendgate does.
 *
 *   http.createServer(requestListener(handler, decide))
 *   app.post('/callback', expressMiddleware(handler, decide))   // no express.json() on this route
 */
const { refusal } = require('./index.js')

const DEFAULT_MAX_BODY = 1 << 20

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
        finish(resolve, Buffer.concat(chunks, size))
      }
    })
    req.on('end', () => finish(resolve, Buffer.concat(chunks, size)))
    req.on('error', (error) => finish(reject, error))
    req.on('aborted', () => finish(reject, new Error('client aborted the request')))
  })
}

function send(res, reply) {
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': reply.body.length })
  res.end(reply.body)
}

async function answer(handler, decide, req, res, max) {
  if (req.method !== 'POST') {
    const reply = refusal('method_not_allowed', req.method)
    res.setHeader('allow', 'POST')
    return send(res, reply)
  }
  let body
  try {
    body = await readBody(req, max)
  } catch (error) {
    return send(res, refusal('body_incomplete', error.message))
  }
  const query = (req.url || '').split('?').slice(1).join('?')
  send(res, await handler.handleAsync(query, body, decide))
}

/** A `node:http` request listener answering every request as the callback. */
function requestListener(handler, decide, { maxBodyBytes = DEFAULT_MAX_BODY } = {}) {
  return (req, res) => {
    answer(handler, decide, req, res, maxBodyBytes).catch((error) => {
      res.statusCode = 500
      res.end(String(error && error.message))
    })
  }
}

/** An Express middleware (Express 4 or 5) answering the callback. */
function expressMiddleware(handler, decide, { maxBodyBytes = DEFAULT_MAX_BODY } = {}) {
  return (req, res, next) => {
    if (req.readableEnded || (req.body !== undefined && req._body === true)) {
      return next(new BodyAlreadyConsumed())
    }
    answer(handler, decide, req, res, maxBodyBytes).catch(next)
  }
}

module.exports = { BodyAlreadyConsumed, expressMiddleware, requestListener }
