/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddDecide, CallbackHandler, CallbackRequest, Decide } from './index'

/** The body was consumed by a body parser before friendgate could read it. */
export declare class BodyAlreadyConsumed extends Error {}
export interface AdapterOptions {
  /** Bytes read at most before core refuses the body as too large (default 1 MiB). */
  maxBodyBytes?: number
  /** Decides each friend request (Sns.CallbackPrevFriendAdd); without one every item is allowed. */
  decideAdd?: AddDecide
  /** The app's handler for its other callbacks at the same URL; it writes the response. */
  onOther?: (request: CallbackRequest, body: Buffer, req: IncomingMessage, res: ServerResponse) => unknown
}
/** A node:http request listener answering the callback. */
export declare function requestListener(
  handler: CallbackHandler,
  decide?: Decide,
  options?: AdapterOptions,
): (req: IncomingMessage, res: ServerResponse) => void
/** An Express middleware answering the callback (mount before any body parser). */
export declare function expressMiddleware(
  handler: CallbackHandler,
  decide?: Decide,
  options?: AdapterOptions,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void
