package dev.friendgate

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionException
import java.util.concurrent.CompletionStage
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReferenceArray

/**
 * Verifies and answers the friend callbacks, `Sns.CallbackPrevFriendResponse`
 * (friend responses: [handle]) and `Sns.CallbackPrevFriendAdd` (friend
 * requests: [handleAdd]), for your app ids and tokens; [answer] takes either
 * at the app's one callback URL. Immutable and thread-safe: share one per
 * process.
 * Every check, limit, error and answer byte is friendgate-core's; see
 * docs/behaviour.md for the rules every language follows.
 *
 * @param onDeciderFailure told of each failed decision (default: a warning
 *   on the `java.util.logging` logger `friendgate`).
 * @throws CallbackException.Refused for a configuration core refuses.
 */
class CallbackHandler @JvmOverloads constructor(
    config: HandlerConfig,
    private val onDeciderFailure: DeciderFailureListener = DeciderFailureListener.LOG,
) : AutoCloseable {
    private val native = refusing { nativeHandler(config.toNative()) }

    /** The hot path's transport: JNI, two crossings per callback (Jni.kt). */
    private val jni = JniConfig(native.jniConfig())

    /** Milliseconds all async decisions of one callback share (core's setting). */
    val deciderDeadlineMs: Long = native.deciderDeadlineMs()

    /**
     * Verifies and answers one friend response, deciding its items in order
     * on this thread; a null [decider] allows every item.
     */
    @JvmOverloads
    fun handle(query: String, body: ByteArray, decider: Decider? = null, now: Long? = null): Reply {
        val started = jni.begin(Jni.RESPONSE, query, body, now)
        val event = started.event ?: return refused(started)
        return inOrder(started, event, event.items, decider?.let { it::decide })
    }

    /** [handle] for a friend request: [decider] gets a [FriendAddCallback] and its [AddItem]s. */
    @JvmOverloads
    fun handleAdd(query: String, body: ByteArray, decider: AddDecider? = null, now: Long? = null): Reply {
        val started = jni.begin(Jni.ADD, query, body, now)
        val event = started.addEvent ?: return refused(started)
        return inOrder(started, event, event.items, decider?.let { it::decide })
    }

    /**
     * Either friend callback at the app's one callback URL, by its command: a
     * friend response decided by [decider], a friend request by [addDecider]
     * (null: every item allowed).
     */
    @JvmOverloads
    fun answer(
        query: String,
        body: ByteArray,
        decider: Decider? = null,
        addDecider: AddDecider? = null,
        now: Long? = null,
    ): Reply {
        val started = jni.begin(Jni.EITHER, query, body, now)
        started.addEvent?.let { return inOrder(started, it, it.items, addDecider?.let { d -> d::decide }) }
        val event = started.event ?: return refused(started)
        return inOrder(started, event, event.items, decider?.let { it::decide })
    }

    /**
     * Like [handle], but the items' [decide] calls run concurrently in the
     * caller's context under one deadline ([deciderDeadlineMs]); an item not
     * decided in time gets the failure policy, well before the platform's 2 s.
     */
    suspend fun handleAsync(
        query: String,
        body: ByteArray,
        now: Long? = null,
        decide: suspend (FriendResponseCallback, ResponseItem) -> Decision?,
    ): Reply {
        val started = jni.begin(Jni.RESPONSE, query, body, now)
        val event = started.event ?: return refused(started)
        return concurrently(started, event, event.items, { it.index }, decide)
    }

    /** [handleAsync] for a friend request. */
    suspend fun handleAddAsync(
        query: String,
        body: ByteArray,
        now: Long? = null,
        decide: suspend (FriendAddCallback, AddItem) -> Decision?,
    ): Reply {
        val started = jni.begin(Jni.ADD, query, body, now)
        val event = started.addEvent ?: return refused(started)
        return concurrently(started, event, event.items, { it.index }, decide)
    }

    /**
     * [handleAsync] for Java: [decider]'s stages for one callback's items run
     * concurrently under one deadline ([deciderDeadlineMs]).
     */
    @JvmOverloads
    fun handleFuture(query: String, body: ByteArray, decider: FutureDecider, now: Long? = null): CompletableFuture<Reply> {
        val started = jni.begin(Jni.RESPONSE, query, body, now)
        val event = started.event ?: return CompletableFuture.completedFuture(refused(started))
        return futures(started, event, event.items, { it.index }, decider::decide)
    }

    /** [handleFuture] for a friend request. */
    @JvmOverloads
    fun handleAddFuture(query: String, body: ByteArray, decider: FutureAddDecider, now: Long? = null): CompletableFuture<Reply> {
        val started = jni.begin(Jni.ADD, query, body, now)
        val event = started.addEvent ?: return CompletableFuture.completedFuture(refused(started))
        return futures(started, event, event.items, { it.index }, decider::decide)
    }

    /** Every item decided in order on this thread (null [decide]: all allowed). */
    private fun <E, I> inOrder(started: JniStarted, event: E, items: List<I>, decide: ((E, I) -> Decision?)?): Reply =
        started.answering {
            val outcomes = items.map { item ->
                if (decide == null) ALLOWED else outcomeOf { decide(event, item) }
            }
            finish(started, outcomes)
        }

    /** Every item decided concurrently in the caller's context, under the one deadline. */
    private suspend fun <E, I> concurrently(
        started: JniStarted,
        event: E,
        items: List<I>,
        index: (I) -> Int,
        decide: suspend (E, I) -> Decision?,
    ): Reply {
        val outcomes = AtomicReferenceArray<Outcome>(items.size)
        // Not a child of the caller's job: a decider that ignores
        // cancellation must not hold the answer past the deadline.
        val job = SupervisorJob()
        val scope = CoroutineScope(currentCoroutineContext().minusKey(Job) + job)
        started.answering {
            val running = items.map { item ->
                scope.launch {
                    val outcome = try {
                        outcomeOf { decide(event, item) }
                    } catch (e: CancellationException) {
                        return@launch
                    }
                    outcomes.compareAndSet(index(item), null, outcome)
                }
            }
            try {
                withTimeoutOrNull(deciderDeadlineMs) { running.joinAll() }
            } finally {
                job.cancel()
            }
        }
        return finish(started, closed(outcomes))
    }

    /** Every item's stage, concurrently, under the one deadline. */
    private fun <E, I> futures(
        started: JniStarted,
        event: E,
        items: List<I>,
        index: (I) -> Int,
        decide: (E, I) -> CompletionStage<Decision?>?,
    ): CompletableFuture<Reply> {
        val outcomes = AtomicReferenceArray<Outcome>(items.size)
        val running = items.map { item ->
            val stage = try {
                decide(event, item)?.toCompletableFuture() ?: CompletableFuture.completedFuture(null)
            } catch (e: Throwable) {
                CompletableFuture.failedFuture(fatal(e))
            }
            stage.handle { decision, error ->
                val outcome = if (error != null) raised(unwrap(error)) else outcomeOf { decision }
                outcomes.compareAndSet(index(item), null, outcome)
            }
        }
        return CompletableFuture.allOf(*running.toTypedArray())
            .completeOnTimeout(null, deciderDeadlineMs, TimeUnit.MILLISECONDS)
            .thenApply { finish(started, closed(outcomes)) }
    }

    /**
     * Authenticates the query of a callback of any command (app id, Sign,
     * window) and returns it typed; throws [CallbackException.Refused] when
     * refused. For the app's own handlers of its other callbacks.
     */
    @JvmOverloads
    fun authenticate(query: String, now: Long? = null): CallbackRequest = refusing { native.authenticate(query, now) }

    /**
     * Where a request on the app's one callback URL goes: [Route.FriendResponse]
     * or [Route.FriendAdd] (answer either with [answer]), [Route.Other] with
     * the authenticated request of another command, or [Route.Refused] with
     * the reply to send.
     */
    @JvmOverloads
    fun route(query: String, now: Long? = null): Route = native.route(query, now)

    /** Verifies a friend response and returns it typed; throws [CallbackException.Refused] when refused. */
    @JvmOverloads
    fun verify(query: String, body: ByteArray, now: Long? = null): FriendResponseCallback =
        refusing { native.verify(query, body, now) }

    /** Verifies a friend request and returns it typed; throws [CallbackException.Refused] when refused. */
    @JvmOverloads
    fun verifyAdd(query: String, body: ByteArray, now: Long? = null): FriendAddCallback =
        refusing { native.verifyAdd(query, body, now) }

    /** Frees the native handler. */
    override fun close() {
        jni.close()
        native.close()
    }

    private fun refused(started: JniStarted): Reply = checkNotNull(started.refused)

    private fun finish(started: JniStarted, outcomes: List<Outcome>): Reply {
        val finished = started.finish(outcomes)
        for (failure in finished.failures) {
            try {
                onDeciderFailure.onFailure(failure)
            } catch (e: Exception) {
                // A failing listener must not cost the callback its answer.
            }
        }
        return finished.reply
    }

    private companion object {
        val ALLOWED = Outcome.Decided(Decision.Allow)

        /** [block]; should it throw (a JVM error, the caller cancelled), the pending answer is freed. */
        inline fun <T> JniStarted.answering(block: () -> T): T = try {
            block()
        } catch (e: Throwable) {
            discard()
            throw e
        }

        /** The outcomes at the deadline: undecided items are late, and stay so. */
        fun closed(outcomes: AtomicReferenceArray<Outcome>): List<Outcome> = List(outcomes.length()) { i ->
            outcomes.compareAndSet(i, null, Outcome.Late)
            outcomes.get(i)
        }

        inline fun outcomeOf(decide: () -> Decision?): Outcome = try {
            decide()?.let { Outcome.Decided(it) } ?: Outcome.Nothing
        } catch (e: CancellationException) {
            throw e
        } catch (e: Throwable) {
            raised(fatal(e))
        }

        /** Errors the JVM cannot go on after are not a decider's failure. */
        fun fatal(e: Throwable): Throwable {
            if (e is VirtualMachineError && e !is StackOverflowError) throw e
            if (e is InterruptedException) Thread.currentThread().interrupt()
            return e
        }

        fun unwrap(e: Throwable): Throwable = if (e is CompletionException && e.cause != null) e.cause!! else e

        /** Only the message goes into the answer (the vectors check it), not the class. */
        fun raised(e: Throwable): Outcome = Outcome.Raised(e.message ?: e.javaClass.name)
    }
}
