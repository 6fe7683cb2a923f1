import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { AddDecide, CallbackHandler, CallbackRequest, Decide } from './index'

export interface FriendgateOptions {
  /** The handler verifying and answering callbacks. */
  handler: CallbackHandler
  /** Decides each friend response; without one every item is allowed. */
  decide?: Decide
  /** The callback URL's path (default `/callback`). */
  path?: string
  /** Bytes read at most before core refuses the body as too large (default 1 MiB). */
  maxBodyBytes?: number
  /** Decides each friend request (Sns.CallbackPrevFriendAdd); without one every item is allowed. */
  decideAdd?: AddDecide
  /** The app's handler for its other callbacks at the same URL; its return value is sent. */
  onOther?: (request: CallbackRequest, body: Buffer, fastifyRequest: FastifyRequest, reply: FastifyReply) => unknown
}
/** The Fastify plugin serving the callback URL for every method: `app.register(friendgate, { handler, decide })`. */
export declare const friendgate: FastifyPluginAsync<FriendgateOptions>
export default friendgate
/** The methods the plugin's route answers (all but POST with core's 405). */
export declare const METHODS: readonly string[]
