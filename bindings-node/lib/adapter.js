'use strict'
// What the node:http, Express and Fastify adapters share (internal: not in
// the package's exports).

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

function adapterOptions({ maxBodyBytes = DEFAULT_MAX_BODY, onOther } = {}) {
  if (onOther !== undefined && typeof onOther !== 'function') throw new TypeError('onOther must be a function')
  return { maxBodyBytes, onOther }
}

module.exports = { adapterOptions, readBody }
