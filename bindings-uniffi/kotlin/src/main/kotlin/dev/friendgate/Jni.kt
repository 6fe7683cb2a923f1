package dev.friendgate

import com.sun.jna.JNIEnv
import com.sun.jna.Library
import com.sun.jna.Native
import com.sun.jna.NativeLibrary
import java.io.ByteArrayOutputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.Collections
import java.util.concurrent.atomic.AtomicLong

/**
 * The hot path over JNI: `begin` and `finish`, two crossings per callback
 * (native side and wire: bindings-uniffi/src/jni.rs). UniFFI's JNA transport
 * stays for everything else.
 */
internal object Jni {
    /** The one native call made through JNA: it binds the methods below. */
    private object Registrar {
        @JvmStatic external fun friendgate_jni_register(env: JNIEnv): Int
    }

    init {
        // The library UniFFI registered, by the same name and options as
        // `Native.register(UniffiLib::class.java, name)` (JNA's cached
        // instance), so that both transports run in one copy of it.
        // `System.load` cannot reach that copy: JNA deletes the file it
        // extracted from the jar once loaded. UniFFI's `jniCalls()` counting
        // this side's calls is the tests' check of the one copy.
        val name = System.getProperty("uniffi.component.friendgate_uniffi.libraryOverride") ?: "friendgate_uniffi"
        val loader = UniffiLib::class.java.classLoader
        val library = NativeLibrary.getInstance(name, Collections.singletonMap(Library.OPTION_CLASSLOADER, loader))
        Native.register(Registrar::class.java, library)
        check(Registrar.friendgate_jni_register(JNIEnv.CURRENT) == 0) { "the JNI methods could not be bound" }
    }

    const val RESPONSE = 0
    const val ADD = 1
    const val EITHER = 2

    @JvmStatic external fun begin(config: Long, command: Int, query: ByteArray, body: ByteArray, now: Long, hasNow: Boolean): ByteArray?

    @JvmStatic external fun finish(pending: Long, outcomes: ByteArray): ByteArray?

    @JvmStatic external fun discard(pending: Long)

    @JvmStatic external fun release(config: Long)

    /** `begin` calls so far, as the JNI side counts them. */
    @JvmStatic external fun calls(): Long
}

/**
 * A handler's configuration on the native side, released after the last
 * call once closed (calls counted as UniFFI counts its own: one atomic, no
 * lock).
 */
internal class JniConfig(private val handle: Long) : AutoCloseable {
    private val calls = AtomicLong(1)

    /** [command]'s callback verified: its event and pending answer, or the refusal. */
    fun begin(command: Int, query: String, body: ByteArray, now: Long?): JniStarted {
        while (true) {
            val held = calls.get()
            check(held > 0) { "the CallbackHandler is closed" }
            if (calls.compareAndSet(held, held + 1)) break
        }
        val wire = try {
            Jni.begin(handle, command, query.toByteArray(Charsets.UTF_8), body, now ?: 0, now != null)
        } finally {
            if (calls.decrementAndGet() == 0L) Jni.release(handle)
        }
        return JniStarted.read(WireIn(checkNotNull(wire) { "the native side could not answer" }))
    }

    override fun close() {
        if (calls.decrementAndGet() == 0L) Jni.release(handle)
    }
}

/** What `begin` gave: the refusal, or an event and its pending answer. */
internal class JniStarted private constructor(
    val refused: Reply?,
    val event: FriendResponseCallback?,
    val addEvent: FriendAddCallback?,
    private var pending: Long,
) {
    /** Frees the pending answer when [finish] will not be called (a JVM error in a decider). */
    fun discard() {
        val handle = pending
        pending = 0
        if (handle != 0L) Jni.discard(handle)
    }

    /** The answer for one outcome per item, and the failed decisions; once. */
    fun finish(outcomes: List<Outcome>): Finished {
        val handle = pending
        check(handle != 0L) { "callback already answered" }
        pending = 0
        val wire = WireIn(checkNotNull(Jni.finish(handle, encode(outcomes))) { "the native side could not answer" })
        val reply = wire.reply()
        val failures = List(wire.i32()) { DeciderFailure(wire.i32(), wire.str(), wire.str(), wire.str()) }
        return Finished(reply, failures)
    }

    companion object {
        fun read(wire: WireIn): JniStarted = when (wire.u8()) {
            1 -> wire.response().let { JniStarted(null, it, null, wire.pending) }
            2 -> wire.add().let { JniStarted(null, null, it, wire.pending) }
            else -> JniStarted(wire.reply(), null, null, 0)
        }

        private fun encode(outcomes: List<Outcome>): ByteArray {
            val out = WireOut(8 + 8 * outcomes.size)
            out.i32(outcomes.size)
            for (outcome in outcomes) {
                when (outcome) {
                    is Outcome.Decided -> when (val decision = outcome.decision) {
                        is Decision.Allow -> out.u8(0)
                        is Decision.Reject -> out.u8(1).i32(decision.code).str(decision.info)
                    }
                    is Outcome.Raised -> out.u8(2).str(outcome.message)
                    is Outcome.Late -> out.u8(3)
                    is Outcome.Nothing -> out.u8(4)
                }
            }
            return out.toByteArray()
        }
    }
}

/** Reads the native side's wire (little-endian; strings with an `i32` length, -1 for null). */
internal class WireIn(bytes: ByteArray) {
    private val buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)

    /** The pending handle, read when the tag says there is one. */
    var pending: Long = 0
        private set

    fun u8(): Int = buf.get().toInt() and 0xff
    fun i32(): Int = buf.int
    fun i64(): Long = buf.long
    fun bool(): Boolean = buf.get() != 0.toByte()
    fun bytes(): ByteArray = ByteArray(buf.int).also { buf.get(it) }
    fun str(): String = checkNotNull(optStr())
    fun optStr(): String? {
        val length = buf.int
        if (length < 0) return null
        val text = String(buf.array(), buf.position(), length, Charsets.UTF_8)
        buf.position(buf.position() + length)
        return text
    }
    fun optI64(): Long? = if (u8() == 1) i64() else null
    fun reply(): Reply = Reply(i32(), str(), bytes(), optStr())

    fun response(): FriendResponseCallback {
        pending = i64()
        return FriendResponseCallback(i64(), optStr(), bool(), optStr(), optI64(), str(), str(), i64(),
            List(i32()) { ResponseItem(i32(), str(), str(), str(), str(), bool(), bool()) })
    }

    fun add(): FriendAddCallback {
        pending = i64()
        return FriendAddCallback(i64(), optStr(), bool(), optStr(), optI64(), str(), str(), str(), bool(), i64(), i64(),
            List(i32()) { AddItem(i32(), str(), str(), str(), str(), str()) })
    }
}

/** Writes the outcomes for the native side. */
internal class WireOut(size: Int) : ByteArrayOutputStream(size) {
    fun u8(v: Int) = apply { write(v) }
    fun i32(v: Int) = apply {
        write(v)
        write(v ushr 8)
        write(v ushr 16)
        write(v ushr 24)
    }
    fun str(v: String) = apply {
        val bytes = v.toByteArray(Charsets.UTF_8)
        i32(bytes.size)
        write(bytes, 0, bytes.size)
    }
}
