package dev.friendgate

/**
 * A refusal by core: a configuration it refuses, a request that fails
 * verification ([CallbackHandler.verify]), a result code outside
 * [38000, 39000] ([reject]). Unchecked, so that Java may write
 * `catch (CallbackException.Refused e)` around any call without declaring
 * it everywhere (UniFFI's own error type extends the checked
 * `java.lang.Exception`, which javac refuses to catch where no method
 * declares it).
 */
sealed class CallbackException(message: String, cause: Throwable?) : RuntimeException(message, cause) {
    /**
     * The one variant: everything is in the fields.
     *
     * @property code core's code, e.g. `bad_signature`.
     * @property httpStatus HTTP status (0 for a configuration error).
     * @property errorCode the platform's ErrorCode (0 for a configuration error).
     * @property reason core's message.
     */
    class Refused internal constructor(
        val code: String,
        val httpStatus: Int,
        val errorCode: Int,
        val reason: String,
        cause: Throwable? = null,
    ) : CallbackException("code=$code, httpStatus=$httpStatus, errorCode=$errorCode, reason=$reason", cause)
}

/** [block], with UniFFI's checked error turned into [CallbackException]. */
internal inline fun <T> refusing(block: () -> T): T = try {
    block()
} catch (e: NativeCallbackException.Refused) {
    throw CallbackException.Refused(e.code, e.httpStatus, e.errorCode, e.reason, e)
}
