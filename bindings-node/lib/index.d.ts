/// <reference types="node" />
/** friendgate: answer Tencent Cloud Chat's friend callbacks, Sns.CallbackPrevFriendResponse and Sns.CallbackPrevFriendAdd. */

/** One friend request being answered. */
export interface ResponseItem {
  /** Position in ResponseFriendItem. */
  index: number
  /** To_Account: who sent the friend request. */
  toAccount: string
  /** Remark (empty when absent). */
  remark: string
  /** TagName (empty when absent). */
  tagName: string
  /** ResponseAction as sent (Response_Action_AgreeAndAdd, ...). */
  action: string
  /** Whether the action is one of the documented three. */
  actionKnown: boolean
  /** Whether the user accepts (AgreeAndAdd or Agree). */
  isAccept: boolean
}

/** A verified callback. */
export interface FriendResponseEvent {
  sdkAppId: number
  /** OptPlatform, canonical spelling (iOS, Mac, ...), or as sent when unknown. */
  platform: string | null
  platformKnown: boolean
  clientIp: string | null
  /** RequestTime (Unix seconds) when signed. */
  requestTime: number | null
  requesterAccount: string
  /** From_Account: who is responding. */
  fromAccount: string
  eventTimeMs: number
  eventTime: Date
  items: ResponseItem[]
}

/** One FriendItem of a friend request: an account `fromAccount` asks to add. */
export interface AddItem {
  /** Position in FriendItem. */
  index: number
  /** To_Account: the account asked. */
  toAccount: string
  /** Remark (empty when absent). */
  remark: string
  /** GroupName (empty when absent). */
  groupName: string
  /** AddSource as sent (AddSource_Type_Android, ...; empty when absent). */
  addSource: string
  /** AddWording: the request's message (empty when absent). Over-long ones are still decided. */
  addWording: string
}

/** A verified friend request (Sns.CallbackPrevFriendAdd). */
export interface FriendAddEvent {
  sdkAppId: number
  /** OptPlatform, canonical spelling (iOS, Mac, ...), or as sent when unknown. */
  platform: string | null
  platformKnown: boolean
  clientIp: string | null
  /** RequestTime (Unix seconds) when signed. */
  requestTime: number | null
  /** Requester_Account: who initiated the request. */
  requesterAccount: string
  /** From_Account: who asks to add friends. */
  fromAccount: string
  /** AddType as sent (Add_Type_Single, Add_Type_Both, a later value, or empty). */
  addType: string
  addTypeKnown: boolean
  /** ForceAddFlags (0 when absent). */
  forceAddFlags: number
  eventTimeMs: number
  eventTime: Date
  items: AddItem[]
}

/** Let the response through. */
export declare class Allow {
  private constructor()
  /** Makes the type nominal: a decider returning anything else (a number, a string) does not type-check. */
  private readonly allowBrand: true
}
/** Block the response with `code` in [38000, 39000]. */
export declare class Reject {
  constructor(code: number, info?: string)
  readonly code: number
  readonly info: string
}
export type Decision = Allow | Reject
/** A synchronous decider, for `handle`. */
export type SyncDecide = (event: FriendResponseEvent, item: ResponseItem) => Decision
/** A decider that may return a Promise, for `handleAsync` and the adapters. */
export type Decide = (event: FriendResponseEvent, item: ResponseItem) => Decision | Promise<Decision>
/** A synchronous friend-request decider, for `handleAdd`. */
export type SyncAddDecide = (event: FriendAddEvent, item: AddItem) => Decision
/** A friend-request decider that may return a Promise, for `handleAddAsync` and the adapters' `decideAdd`. */
export type AddDecide = (event: FriendAddEvent, item: AddItem) => Decision | Promise<Decision>

/** `allow()`: let the response through. */
export declare function allow(): Allow
/** `reject(code, info)`: block it; throws DecisionError for a code outside [38000, 39000]. */
export declare function reject(code: number, info?: string): Reject

/** What to send back. */
export interface Reply {
  status: number
  headers: { 'content-type': 'application/json' }
  /** friendgate-core's exact answer bytes. */
  body: Buffer
  /** Core's error code when the answer is FAIL. */
  errorCode: string | null
}

export interface HandlerOptions {
  /** Accepted SdkAppid values. */
  appIds: number[]
  /** Console tokens; several during rotation; none turns authentication off (tests only). */
  tokens?: string[]
  /** RequestTime window in seconds, each way (default 60). */
  windowSeconds?: number
  /** Told of every failed decision (default: a process warning, code FRIENDGATE_DECIDER_FAILED). */
  onDeciderFailure?: (failure: DeciderFailure) => void
  limits?: {
    maxBodyBytes?: number
    maxItems?: number
    maxUserIdBytes?: number
    maxRemarkBytes?: number
    maxTagNameBytes?: number
    maxDepth?: number
  }
  /** What an item whose decider failed or was late gets (default reject 38900). */
  onDeciderError?: { policy: 'reject'; code?: number; info?: string } | { policy: 'allow' } | { policy: 'failCallback' }
  /** Milliseconds all decisions of one callback may take in handleAsync (default 1500). */
  deciderDeadlineMs?: number
}

export interface CallOptions {
  /** The time to check RequestTime against, Unix seconds (default now). */
  now?: number
}

export declare class CallbackHandler {
  constructor(options: HandlerOptions)
  readonly deciderDeadlineMs: number
  /** Verifies and answers one friend response; `decide` must be synchronous here. */
  handle(query: string, body: Buffer | Uint8Array | string, decide?: SyncDecide, options?: CallOptions): Reply
  /** Verifies and answers one friend response; `decide` may return a Promise. */
  handleAsync(query: string, body: Buffer | Uint8Array | string, decide?: Decide, options?: CallOptions): Promise<Reply>
  /** Verifies and answers one friend request; `decide` must be synchronous here. */
  handleAdd(query: string, body: Buffer | Uint8Array | string, decide?: SyncAddDecide, options?: CallOptions): Reply
  /** Verifies and answers one friend request; `decide` may return a Promise. */
  handleAddAsync(query: string, body: Buffer | Uint8Array | string, decide?: AddDecide, options?: CallOptions): Promise<Reply>
  /** Either friend callback at the one URL, by its command. */
  answer(query: string, body: Buffer | Uint8Array | string, decide?: SyncDecide, decideAdd?: SyncAddDecide, options?: CallOptions): Reply
  /** `answer` with deciders that may return Promises. */
  answerAsync(query: string, body: Buffer | Uint8Array | string, decide?: Decide, decideAdd?: AddDecide, options?: CallOptions): Promise<Reply>
  /** The typed friend response, or throws a CallbackError subclass. */
  verify(query: string, body: Buffer | Uint8Array | string, options?: CallOptions): FriendResponseEvent
  /** The typed friend request, or throws a CallbackError subclass. */
  verifyAdd(query: string, body: Buffer | Uint8Array | string, options?: CallOptions): FriendAddEvent
  /** Authenticates a callback of any command, or throws a CallbackError subclass. */
  authenticate(query: string, options?: CallOptions): CallbackRequest
  /** null for a friend callback (a response or a request), a CallbackRequest for another command, or the refusal's reply. */
  route(query: string, options?: CallOptions): CallbackRequest | Reply | null
}

/** An authenticated callback of any command (the one callback URL receives them all). */
export declare class CallbackRequest {
  readonly command: string
  /** Whether the Chat documentation lists the command. */
  readonly commandKnown: boolean
  readonly sdkAppId: number
  readonly platform: string | null
  readonly platformKnown: boolean
  readonly clientIp: string | null
  readonly requestTime: number | null
}

export declare class Response {
  static allowAll(accounts: string[]): Response
  static fail(code: number, info?: string): { toBuffer(): Buffer }
  reject(account: string, code: number, info?: string): this
  toBuffer(): Buffer
}

export declare class CallbackError extends Error {
  /** Core's stable code, e.g. "bad_signature". */
  readonly code: string
  readonly httpStatus: number
  /** Platform ErrorCode in [38000, 39000]. */
  readonly errorCode: number
}
export declare class QueryError extends CallbackError {}
export declare class AppIdError extends CallbackError {}
export declare class SignatureError extends CallbackError {}
export declare class BodyError extends CallbackError {}
export declare class LimitError extends CallbackError {}
export declare class DecisionError extends CallbackError {}
export declare class TransportError extends CallbackError {}
export declare class ConfigurationError extends Error {
  readonly code: string
}

export declare const ERROR_CODES: readonly string[]
/** A failed decision, as every binding reports it (Python's `DeciderFailure`, Kotlin's listener). */
export interface DeciderFailure {
  /** The item's position in the callback. */
  readonly index: number
  /** The item's `To_Account`. */
  readonly toAccount: string
  /** Why its decision failed. */
  readonly reason: string
  /** Core's line naming the item and the reason. */
  readonly report: string
}
/** One row of friendgate-core's error catalogue. */
export interface ErrorEntry {
  /** Stable snake_case code (`bad_signature`). */
  readonly code: string
  /** Platform ErrorCode of the FAIL answer, in [38000, 39000]. */
  readonly errorCode: number
  /** HTTP status of the FAIL answer. */
  readonly httpStatus: number
  /** The family (`signature`, `body`, ...): the subclass that is thrown. */
  readonly family: string
}
/** Every error friendgate-core can refuse a callback with, in catalogue order (as Python's and Kotlin's). */
export declare const ERROR_CATALOGUE: readonly ErrorEntry[]
/**
 * Core's FAIL reply for a transport refusal (method_not_allowed, request_timeout, overloaded, body_incomplete);
 * any other code throws (core's message), as in every binding.
 */
export declare function refusal(code: string, detail?: string): Reply
/** Core's 200 "processed, go on" reply for a callback of another command nobody decides. */
export declare function processed(): Reply
