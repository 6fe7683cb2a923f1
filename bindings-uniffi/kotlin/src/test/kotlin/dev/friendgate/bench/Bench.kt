// Benchmark (not a test): callbacks per second through the Kotlin API beside
// the same work in plain Kotlin. Run: make bench-kotlin
package dev.friendgate.bench

import com.google.gson.JsonArray
import com.google.gson.JsonObject
import com.google.gson.JsonParser
import dev.friendgate.CallbackHandler
import dev.friendgate.Decider
import dev.friendgate.Decision
import dev.friendgate.FriendResponseCallback
import dev.friendgate.HandlerConfig
import dev.friendgate.ResponseItem
import dev.friendgate.Testing
import dev.friendgate.nativeHandler
import java.net.URLDecoder
import java.security.MessageDigest

private const val APP = 1400000000L
private const val TOKEN = "xxxxyyyy"
private const val CMD = "Sns.CallbackPrevFriendResponse"

private fun fail(code: Int, info: String) =
    JsonObject().apply {
        addProperty("ActionStatus", "FAIL"); addProperty("ErrorCode", code); addProperty("ErrorInfo", info); add("ResultItem", JsonArray())
    }.toString().toByteArray()

private fun short(value: Any?, limit: Int) = value is String && value.toByteArray().size <= limit

/** What a careful hand-written endpoint does, in plain Kotlin. */
fun plainHandle(query: String, body: ByteArray): ByteArray {
    val params = query.split('&').associate { pair ->
        val (k, v) = pair.split('=', limit = 2).let { it[0] to it.getOrElse(1) { "" } }
        URLDecoder.decode(k, Charsets.UTF_8) to URLDecoder.decode(v, Charsets.UTF_8)
    }
    if (params["SdkAppid"] != APP.toString()) return fail(38010, "foreign app")
    if (params["CallbackCommand"] != CMD || params["contenttype"] != "json") return fail(38005, "bad command")
    val time = params["RequestTime"] ?: return fail(38011, "missing Sign")
    val sign = params["Sign"] ?: return fail(38011, "missing Sign")
    val expected = MessageDigest.getInstance("SHA-256").digest((TOKEN + time).toByteArray())
    val given = runCatching { sign.chunked(2).map { it.toInt(16).toByte() }.toByteArray() }.getOrNull() ?: return fail(38012, "bad Sign")
    if (!MessageDigest.isEqual(expected, given)) return fail(38012, "bad Sign")
    val seconds = time.toLongOrNull() ?: return fail(38002, "bad time")
    if (Math.abs(seconds - System.currentTimeMillis() / 1000) > 60) return fail(38013, "stale")
    if (body.size > 1 shl 20) return fail(38020, "too large")
    val data = runCatching { JsonParser.parseString(String(body, Charsets.UTF_8)).asJsonObject }.getOrNull() ?: return fail(38022, "bad JSON")
    if (data["CallbackCommand"]?.asString != CMD) return fail(38029, "bad command")
    if (!short(data["Requester_Account"]?.asString, 32) || !short(data["From_Account"]?.asString, 32)) return fail(38025, "bad account")
    val items = data["ResponseFriendItem"]?.takeIf { it.isJsonArray }?.asJsonArray ?: return fail(38025, "bad items")
    if (items.size() > 1000) return fail(38027, "too many")
    val results = JsonArray()
    for (element in items) {
        val item = element.takeIf { it.isJsonObject }?.asJsonObject ?: return fail(38025, "bad item")
        val remark = item["Remark"]?.asString ?: ""
        if (!short(item["To_Account"]?.asString, 32) || !short(remark, 96) || !short(item["TagName"]?.asString ?: "", 96) || item["ResponseAction"] == null) {
            return fail(38025, "bad item")
        }
        val spam = "spam" in remark
        results.add(JsonObject().apply {
            addProperty("To_Account", item["To_Account"].asString); addProperty("ResultCode", if (spam) 38001 else 0); addProperty("ResultInfo", if (spam) "spam" else "")
        })
    }
    return JsonObject().apply {
        addProperty("ActionStatus", "OK"); addProperty("ErrorCode", 0); addProperty("ErrorInfo", ""); add("ResultItem", results)
    }.toString().toByteArray()
}

object SpamDecider : Decider {
    override fun decide(event: FriendResponseCallback, item: ResponseItem): Decision =
        if ("spam" in item.remark) Decision.Reject(38001, "spam") else Decision.Allow
}

private fun perCall(rounds: Int = 5, n: Int = 100_000, work: () -> Unit): Double {
    repeat(n) { work() }
    return (1..rounds).minOf {
        val start = System.nanoTime()
        repeat(n) { work() }
        (System.nanoTime() - start).toDouble() / n
    }
}

fun main() {
    val handler = CallbackHandler(HandlerConfig(appIds = listOf(APP), tokens = listOf(TOKEN)))
    val query = Testing.signedQuery(APP, TOKEN)
    val body = Testing.sampleBody().toByteArray()
    val ours = handler.handle(query, body, SpamDecider).body
    check(ours.contentEquals(plainHandle(query, body))) { "both must give the same answer bytes" }
    val noDecider = perCall { handler.handle(query, body) }
    val withDecider = perCall { handler.handle(query, body, SpamDecider) }
    val plain = perCall { plainHandle(query, body) }
    fun line(name: String, ns: Double) = println("%-48s %7.2f us/callback  %,9.0f/s".format(name, ns / 1000, 1e9 / ns))
    line("friendgate (JNI hot path), no decider", noDecider)
    line("friendgate (JNI hot path), Kotlin decider", withDecider)
    line("plain Kotlin (Gson, MessageDigest)", plain)
    println("plain / friendgate with decider: %.2fx".format(plain / withDecider))
    // 8 threads at once on the one handler (servlets, Ktor): wall time per callback.
    line("friendgate, Kotlin decider, 8 threads", threaded { handler.handle(query, body, SpamDecider) })
    line("plain Kotlin, 8 threads", threaded { plainHandle(query, body) })
    // UniFFI's floor on this JVM: one crossing with no arguments, and one
    // with a string in and out (each allocates JNA Structures).
    val native = nativeHandler(HandlerConfig(appIds = listOf(APP), tokens = listOf(TOKEN)).toNative())
    line("floor: one UniFFI call, no arguments", perCall { native.deciderDeadlineMs() })
    line("floor: one UniFFI call, string in and out", perCall { dev.friendgate.sign(TOKEN, 1669872112L) })
    // Native memory: the process' RSS after each million callbacks (the heap
    // has grown to its size during the runs above).
    val samples = (0..2).map { round ->
        if (round > 0) repeat(1_000_000) { handler.handle(query, body, SpamDecider) }
        System.gc()
        rssKb()
    }
    println("RSS after 0, 1M, 2M callbacks: %s kB".format(samples.joinToString(" / ")))
}

/** Wall time per callback with 8 threads each doing [n] at once, best of [rounds]. */
private fun threaded(rounds: Int = 3, n: Int = 50_000, work: () -> Unit): Double = (0..rounds).minOf {
    val start = System.nanoTime()
    val threads = List(8) { Thread { repeat(n) { work() } }.apply { start() } }
    threads.forEach { it.join() }
    (System.nanoTime() - start).toDouble() / (8 * n)
}

private fun rssKb(): Long =
    java.io.File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }.split(Regex("\\s+"))[1].toLong()
