package dev.friendgate

/**
 * A handler's configuration (core's `ConfigSpec`); a setting left null keeps
 * core's default. Kotlin names what it sets:
 * `HandlerConfig(appIds = listOf(1400000000L), tokens = listOf(token))`;
 * Java builds it: `HandlerConfig.builder().appIds(1400000000L).tokens(token).build()`.
 *
 * @property appIds accepted SdkAppid values.
 * @property tokens console tokens (several during rotation; none turns authentication off).
 * @property windowSeconds RequestTime window in seconds, each way.
 * @property limits body limits.
 * @property onDeciderError failure policy.
 * @property deciderDeadlineMs milliseconds all async decisions of one callback share.
 */
data class HandlerConfig(
    val appIds: List<Long>,
    val tokens: List<String> = emptyList(),
    val windowSeconds: Long? = null,
    val limits: BodyLimits? = null,
    val onDeciderError: OnDeciderError? = null,
    val deciderDeadlineMs: Long? = null,
) {
    internal fun toNative() =
        NativeHandlerConfig(appIds, tokens, windowSeconds, limits?.toNative(), onDeciderError, deciderDeadlineMs)

    /** Builds a [HandlerConfig] from Java, setting only what differs from core's defaults. */
    class Builder internal constructor() {
        private var config = HandlerConfig(appIds = emptyList())

        /** Accepted SdkAppid values (replaces any set before). */
        fun appIds(vararg appIds: Long) = apply { config = config.copy(appIds = appIds.toList()) }

        /** Accepted SdkAppid values (replaces any set before). */
        fun appIds(appIds: Collection<Long>) = apply { config = config.copy(appIds = appIds.toList()) }

        /** Console tokens, several during a rotation (replaces any set before). */
        fun tokens(vararg tokens: String) = apply { config = config.copy(tokens = tokens.toList()) }

        /** Console tokens, several during a rotation (replaces any set before). */
        fun tokens(tokens: Collection<String>) = apply { config = config.copy(tokens = tokens.toList()) }

        /** RequestTime window in seconds, each way. */
        fun windowSeconds(seconds: Long) = apply { config = config.copy(windowSeconds = seconds) }

        /** Body limits (`BodyLimits.builder()...build()`). */
        fun limits(limits: BodyLimits) = apply { config = config.copy(limits = limits) }

        /** Failure policy: `OnDeciderError.Allow.INSTANCE`, `new OnDeciderError.Reject(38900, "...")`... */
        fun onDeciderError(policy: OnDeciderError) = apply { config = config.copy(onDeciderError = policy) }

        /** Milliseconds all async decisions of one callback share. */
        fun deciderDeadlineMs(millis: Long) = apply { config = config.copy(deciderDeadlineMs = millis) }

        /** The configuration; core checks it when a [CallbackHandler] is made of it. */
        fun build(): HandlerConfig = config
    }

    companion object {
        /** A builder with nothing set (Java: `HandlerConfig.builder()`). */
        @JvmStatic
        fun builder(): Builder = Builder()
    }
}

/**
 * Body limits; a limit left null keeps core's default (docs/behaviour.md).
 * Java: `BodyLimits.builder().maxItems(100).build()`.
 */
data class BodyLimits(
    val maxBodyBytes: Long? = null,
    val maxItems: Long? = null,
    val maxUserIdBytes: Long? = null,
    val maxRemarkBytes: Long? = null,
    val maxTagNameBytes: Long? = null,
    val maxDepth: Long? = null,
) {
    internal fun toNative() =
        NativeBodyLimits(maxBodyBytes, maxItems, maxUserIdBytes, maxRemarkBytes, maxTagNameBytes, maxDepth)

    /** Builds [BodyLimits] from Java. */
    class Builder internal constructor() {
        private var limits = BodyLimits()

        /** Largest body, bytes. */
        fun maxBodyBytes(bytes: Long) = apply { limits = limits.copy(maxBodyBytes = bytes) }

        /** Most items in one callback. */
        fun maxItems(items: Long) = apply { limits = limits.copy(maxItems = items) }

        /** Longest UserID, bytes. */
        fun maxUserIdBytes(bytes: Long) = apply { limits = limits.copy(maxUserIdBytes = bytes) }

        /** Longest remark, bytes. */
        fun maxRemarkBytes(bytes: Long) = apply { limits = limits.copy(maxRemarkBytes = bytes) }

        /** Longest tag name, bytes. */
        fun maxTagNameBytes(bytes: Long) = apply { limits = limits.copy(maxTagNameBytes = bytes) }

        /** Deepest JSON nesting. */
        fun maxDepth(depth: Long) = apply { limits = limits.copy(maxDepth = depth) }

        /** The limits. */
        fun build(): BodyLimits = limits
    }

    companion object {
        /** A builder with every limit at core's default (Java: `BodyLimits.builder()`). */
        @JvmStatic
        fun builder(): Builder = Builder()
    }
}
