'use strict'
/**
 * The Fastify plugin (Fastify 4 and 5):
 *
 *   app.register(friendgate, { handler, decide, decideAdd, path: '/callback', onOther })
 *
 * It serves the app's one callback URL for every method: POST friend
 * responses are decided by `decide`, friend requests (Sns.CallbackPrevFriendAdd)
 * by `decideAdd` (absent: allowed); an authenticated callback of any other
 * command goes to `onOther(request, body, fastifyRequest, reply)`, whose
 * return value is sent (without one: core's "processed" answer); every other
 * method gets core's 405. The plugin is encapsulated: its content-type parser,
 * which leaves the body unread so the Sign is checked before a byte of it is
 * taken, applies to its route only.
 */
const { CallbackHandler } = require('./index.js')
const { adapterOptions, serveCallback } = require('./adapter.js')

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

function send(reply, answer, { close = false } = {}) {
  reply.code(answer.status).headers(answer.headers)
  if (close) reply.header('connection', 'close')
  return reply.send(answer.body)
}

/** The plugin; options `{ handler, decide, decideAdd, path = '/callback', maxBodyBytes, onOther }`. */
async function friendgate(fastify, options) {
  const { handler, decide, path = '/callback' } = options
  if (!(handler instanceof CallbackHandler)) throw new TypeError('friendgate/fastify needs `handler`, a CallbackHandler')
  const settings = adapterOptions(options)
  fastify.removeAllContentTypeParsers()
  // The raw stream is the "body": read below, after the Sign check.
  fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
  fastify.route({
    method: METHODS,
    url: path,
    exposeHeadRoute: false,
    handler(request, reply) {
      return serveCallback(handler, decide, request.raw, settings, {
        send: (answer, sent) => send(reply, answer, sent),
        other: (callback, body) => settings.onOther(callback, body, request, reply),
      })
    },
  })
}

module.exports = { friendgate, default: friendgate, METHODS }
