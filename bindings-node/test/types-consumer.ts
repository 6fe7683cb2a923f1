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

// Friend requests: their own event and item types; a wrong return, or a
// friend response's decider, is refused.
import { type AddDecide, type FriendAddEvent, type AddItem } from 'friendgate'
import { sampleAddBody } from 'friendgate/testing'
const decideAdd: AddDecide = (event: FriendAddEvent, item: AddItem) =>
  item.addWording.includes('spam') || event.addType === 'Add_Type_Single' ? reject(38010, 'greeting') : allow()
handler.handleAdd('q', sampleAddBody(), (_e, item) => (item.groupName ? allow() : reject(38011, 'no group')))
void handler.answerAsync('q', '{}', decide, decideAdd)
http.createServer(requestListener(handler, decide, { decideAdd }))
// @ts-expect-error a decider must return allow() or reject()
handler.handleAdd('q', '{}', () => 42)
// @ts-expect-error a friend response's decider reads tagName, which a request's item lacks
handler.handleAdd('q', '{}', (_e, item) => (item.tagName ? allow() : allow()))
// @ts-expect-error decideAdd takes a friend request's decider
http.createServer(requestListener(handler, decide, { decideAdd: (_e: unknown, i: { tagName: string }) => (i.tagName ? allow() : allow()) }))
// @ts-expect-error a Decide may return a Promise, which the synchronous handle cannot await
handler.handle('q', '{}', decide)
