/** The Sign for `token` at `requestTime` (Unix seconds). */
export declare function sign(token: string, requestTime: number): string
/** A callback query string as the platform sends it; signed when `token` is given. */
export declare function signedQuery(
  appId: number,
  token?: string,
  requestTime?: number,
  options?: { platform?: string; clientIp?: string; command?: string },
): string
/** The platform's sample body, or one with `items` items. */
export declare function sampleBody(options?: { items?: number; fromAccount?: string }): string
/** The documentation's friend-request sample (Sns.CallbackPrevFriendAdd), or one with `items` items. */
export declare function sampleAddBody(options?: { items?: number; fromAccount?: string }): string
