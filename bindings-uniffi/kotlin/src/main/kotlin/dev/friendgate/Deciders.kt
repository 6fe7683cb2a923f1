package dev.friendgate

import java.util.concurrent.CompletionStage
import java.util.logging.Logger

/**
 * Decides one item of a verified callback: return [Decision.Allow] or
 * [reject]. A throw, or null (from Java), makes the item get the failure
 * policy (core's default: rejected with 38900).
 */
fun interface Decider {
    /** The decision for [item] of [event]. */
    fun decide(event: FriendResponseCallback, item: ResponseItem): Decision?
}

/**
 * Decides one item of a verified friend request (`Sns.CallbackPrevFriendAdd`):
 * return [Decision.Allow] or [reject]. A throw, or null (from Java), makes the
 * item get the failure policy.
 */
fun interface AddDecider {
    /** The decision for [item] of [event]. */
    fun decide(event: FriendAddCallback, item: AddItem): Decision?
}

/** [FutureDecider] for friend requests ([CallbackHandler.handleAddFuture]). */
fun interface FutureAddDecider {
    /** A stage completing with the decision for [item] of [event]. */
    fun decide(event: FriendAddCallback, item: AddItem): CompletionStage<Decision?>
}

/**
 * An asynchronous decider for Java callers ([CallbackHandler.handleFuture]):
 * the items of one callback are decided concurrently under core's deadline.
 */
fun interface FutureDecider {
    /** A stage completing with the decision for [item] of [event]. */
    fun decide(event: FriendResponseCallback, item: ResponseItem): CompletionStage<Decision?>
}

/**
 * Told of every failed decision (a throw, null, an invalid code, a missed
 * deadline); the failure policy has answered it. [DeciderFailure.report] is
 * core's line, the same in every language, without secrets.
 */
fun interface DeciderFailureListener {
    /** Called once per failed item, in item order, before the reply is returned. */
    fun onFailure(failure: DeciderFailure)

    companion object {
        /** The default: a warning on the `java.util.logging` logger `friendgate`. */
        @JvmField
        val LOG: DeciderFailureListener = DeciderFailureListener { Logger.getLogger("friendgate").warning(it.report) }
    }
}
