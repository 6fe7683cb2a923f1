// Compiled with `tsc --noEmit` by the tests: the declarations must type a real use.
import { CallbackHandler, allow, reject, type Decide, type Reply, CallbackError } from 'friendgate'
import { signedQuery, sampleBody } from 'friendgate/testing'
import { requestListener } from 'friendgate/http'
import http from 'node:http'

const handler = new CallbackHandler({ appIds: [1400000000], tokens: ['t'], limits: { maxItems: 100 }, onDeciderError: { policy: 'failCallback' } })
const decide: Decide = async (event, item) => (item.remark.includes('spam') || event.fromAccount === 'x' ? reject(38001, 'no') : allow())
const reply: Reply = handler.handle(signedQuery(1400000000, 't'), sampleBody(), (_e, _i) => allow())
const status: number = reply.status
void handler.handleAsync('q', Buffer.from('{}'), decide).then((r) => r.body.length)
try {
  handler.verify('q', '{}')
} catch (error) {
  if (error instanceof CallbackError) console.log(error.code, error.httpStatus, error.errorCode, status)
}
http.createServer(requestListener(handler, decide))
