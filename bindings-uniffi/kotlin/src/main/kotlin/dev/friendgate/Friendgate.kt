@file:JvmName("Friendgate")

package dev.friendgate

/** The decision to let a response through (Java: `Friendgate.allow()`). */
fun allow(): Decision = Decision.Allow

/**
 * The decision to block a response with [code] in [38000, 39000] and a
 * reason; throws [CallbackException.Refused] (`invalid_result_code`) for any
 * other code (Java: `Friendgate.reject(38001, "spam")`).
 */
fun reject(code: Int, info: String): Decision = refusing { checkedReject(code.toLong(), info) }

/**
 * An answer built by hand, bytes written by core:
 * `Response.allowAll(listOf("id1", "id2")).reject("id2", 38001, "spam").toBytes()`,
 * `Response.fail(38500, "maintenance").toBytes()`.
 */
class Response private constructor(
    private val entries: List<Pair<String, Decision>>,
    private val failed: ByteArray?,
) {
    /** Rejects every item for [account]; returns a new response. */
    fun reject(account: String, code: Int, info: String): Response {
        val decision = dev.friendgate.reject(code, info)
        return Response(entries.map { (to, d) -> to to if (to == account) decision else d }, failed)
    }

    /** The JSON answer (core's bytes). */
    fun toBytes(): ByteArray =
        failed?.copyOf() ?: refusing { answerBytes(entries.map { it.first }, entries.map { it.second }) }

    companion object {
        /** An `OK` answer allowing every account, in order. */
        @JvmStatic
        fun allowAll(accounts: List<String>): Response = Response(accounts.map { it to Decision.Allow }, null)

        /** A `FAIL` answer with [code] in [38000, 39000]. */
        @JvmStatic
        fun fail(code: Int, info: String): Response = Response(emptyList(), refusing { failBytes(code.toLong(), info) })
    }
}

/** Test helpers (core's), callable from Java as `Testing.signedQuery(...)`. */
object Testing {
    /** The Sign for [token] at [requestTime]. */
    @JvmStatic
    fun sign(token: String, requestTime: Long): String = dev.friendgate.sign(token, requestTime)

    /** A callback query string, signed with [token] at [requestTime] (now when null). */
    @JvmStatic
    @JvmOverloads
    fun signedQuery(appId: Long, token: String? = null, requestTime: Long? = null): String =
        dev.friendgate.signedQuery(appId, token, requestTime, null)

    /** A friend-request (`Sns.CallbackPrevFriendAdd`) query string, signed with [token] at [requestTime]. */
    @JvmStatic
    @JvmOverloads
    fun signedAddQuery(appId: Long, token: String? = null, requestTime: Long? = null): String =
        dev.friendgate.signedQuery(appId, token, requestTime, "Sns.CallbackPrevFriendAdd")

    /** The platform's sample body, or one with [items] items. */
    @JvmStatic
    @JvmOverloads
    fun sampleBody(items: Int? = null): String = dev.friendgate.sampleBody(items)

    /** The documentation's friend-request sample, or one with [items] items. */
    @JvmStatic
    @JvmOverloads
    fun sampleAddBody(items: Int? = null): String = dev.friendgate.sampleAddBody(items)
}
