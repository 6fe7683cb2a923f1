package dev.friendgate

import dev.friendgate.example.ExamplePolicy
import dev.friendgate.example.OtherCallbacks
import dev.friendgate.example.startServer
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import java.util.concurrent.CompletableFuture
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.logging.Handler
import java.util.logging.LogRecord
import java.util.logging.Logger

class ApiTest {
    private val now = 1669872112L
    private val handler = CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy")))
    private val query = Testing.signedQuery(1400000000L, "xxxxyyyy", now)
    private val body = Testing.sampleBody().toByteArray()

    @Test
    fun knownSign() {
        assertEquals("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", Testing.sign("xxxxyyyy", now))
    }

    @Test
    fun theHotPathCrossesOverJniTwicePerCallbackInTheOneLibrary() {
        val before = Jni.calls()
        assertEquals(before, jniCalls(), "JNI and UniFFI count in one copy of the library")
        handler.handle(query, body, { _, _ -> allow() }, now)
        handler.handleAdd(Testing.signedAddQuery(1400000000L, "xxxxyyyy", now), Testing.sampleAddBody().toByteArray(), null, now)
        handler.answer(query, body, null, null, now)
        assertEquals(before + 3, Jni.calls())
        assertEquals(Jni.calls(), jniCalls())
    }

    @Test
    fun aClosedHandlerRefusesCallsAndAPendingAnswerIsFreedOnce() {
        val closing = CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy")))
        closing.close()
        assertThrows(IllegalStateException::class.java) { closing.handle(query, body, null, now) }
        // A JVM error out of a decider: the pending answer is freed, the error goes on.
        assertThrows(OutOfMemoryError::class.java) { handler.handle(query, body, { _, _ -> throw OutOfMemoryError("test") }, now) }
        assertEquals(0L, jniPending(), "no pending answer left on the native side")
        // A caller cancelled while its deciders run: freed too.
        runBlocking {
            val running = launch(Dispatchers.Default) {
                handler.handleAsync(query, body, now) { _, _ -> delay(10_000); allow() }
            }
            delay(100)
            running.cancelAndJoin()
        }
        assertEquals(0L, jniPending())
        assertEquals(200, handler.handle(query, body, null, now).status)
        handler.handleFuture(query, body, { _, _ -> CompletableFuture() }, now).get(5, TimeUnit.SECONDS)
        assertEquals(0L, jniPending(), "every finished callback freed its pending answer")
    }

    @Test
    fun deciderSeesTheContext() {
        val seen = mutableListOf<String>()
        handler.handle(query, body, { event, item ->
            seen += "${event.sdkAppId} ${event.platform} ${event.clientIp} ${event.fromAccount} ${event.eventTimeMs} ${item.index} ${item.toAccount} ${item.remark} ${item.action} ${item.isAccept}"
            Decision.Allow
        }, now)
        assertEquals(
            listOf(
                "1400000000 iOS 127.0.0.1 id 1631777645424 0 id1 remark1 Response_Action_AgreeAndAdd true",
                "1400000000 iOS 127.0.0.1 id 1631777645424 1 id2 remark2 Response_Action_Reject false",
            ),
            seen,
        )
    }

    @Test
    fun aThrowingDeciderGetsTheFailurePolicyNotACrash() {
        val throwing = Decider { _, _ -> throw RuntimeException("db down") }
        val reply = handler.handle(query, body, throwing, now)
        assertEquals(200, reply.status)
        assertEquals(2, String(reply.body).split("\"ResultCode\":38900,\"ResultInfo\":\"decision unavailable\"").size - 1)
        val strict = CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy"), onDeciderError = OnDeciderError.FailCallback))
        val failed = strict.handle(query, body, throwing, now)
        assertEquals(500, failed.status)
        assertTrue(String(failed.body).contains("db down"), String(failed.body))
    }

    @Test
    fun errorsCarryCoreCodes() {
        val error = assertThrows(CallbackException.Refused::class.java) { handler.verify(query.replace("Sign=1", "Sign=2"), body, now) }
        assertEquals("bad_signature", error.code)
        assertEquals(401, error.httpStatus)
        assertEquals(38012, error.errorCode)
        assertEquals("Sign does not match", error.reason)
        val invalid = assertThrows(CallbackException.Refused::class.java) { reject(37999, "low") }
        assertEquals("invalid_result_code", invalid.code)
        val config = assertThrows(CallbackException.Refused::class.java) { CallbackHandler(HandlerConfig(appIds = emptyList())) }
        assertEquals("no_app_ids", config.code)
        // Core's code and message, the same in every language.
        val policy = assertThrows(CallbackException.Refused::class.java) {
            CallbackHandler(HandlerConfig(appIds = listOf(1L), onDeciderError = OnDeciderError.Reject(5, "x")))
        }
        assertEquals("invalid_result_code", policy.code)
        assertEquals("on_decider_error.code: result code 5 is outside [38000, 39000]", policy.reason)
    }

    @Test
    fun verifyReturnsTypedRecords() {
        val event = handler.verify(query, body, now)
        assertEquals(listOf("id1", "id2"), event.items.map { it.toAccount })
        assertEquals(now, event.requestTime)
    }

    @Test
    fun responseBuilder() {
        assertEquals(
            "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"a\",\"ResultCode\":0,\"ResultInfo\":\"\"}]}",
            String(Response.allowAll(listOf("a")).toBytes()),
        )
        assertEquals("{\"ActionStatus\":\"FAIL\",\"ErrorCode\":38500,\"ErrorInfo\":\"down\",\"ResultItem\":[]}", String(Response.fail(38500, "down").toBytes()))
        assertEquals(
            "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"a\",\"ResultCode\":0,\"ResultInfo\":\"\"},{\"To_Account\":\"b\",\"ResultCode\":38001,\"ResultInfo\":\"spam\"}]}",
            String(Response.allowAll(listOf("a", "b")).reject("b", 38001, "spam").toBytes()),
        )
        assertThrows(CallbackException.Refused::class.java) { Response.allowAll(listOf("a")).reject("a", 1, "x") }
        assertThrows(CallbackException.Refused::class.java) { Response.fail(1, "x") }
    }

    @Test
    fun oneHandlerSharedByThreads() {
        val pool = Executors.newFixedThreadPool(8)
        val results = (1..8).map { n ->
            pool.submit<Boolean> {
                val items = Testing.sampleBody(n).toByteArray()
                (1..100).all {
                    val reply = handler.handle(Testing.signedQuery(1400000000L, "xxxxyyyy", now), items, { _, _ -> reject(38001, "t$n") }, now)
                    String(reply.body).split("\"ResultInfo\":\"t$n\"").size - 1 == n
                }
            }
        }
        assertTrue(results.all { it.get(30, TimeUnit.SECONDS) })
        pool.shutdown()
    }

    private val twenty = Testing.sampleBody(20).toByteArray()

    @Test
    fun suspendingDecidersOfOneCallbackRunConcurrently() = runBlocking {
        val start = System.nanoTime()
        val reply = handler.handleAsync(query, twenty, now) { _, item ->
            delay(50)
            if (item.index % 2 == 0) Decision.Allow else reject(38001, "odd")
        }
        val ms = (System.nanoTime() - start) / 1_000_000
        assertTrue(ms < 500, "20 items of 50 ms took $ms ms")
        assertEquals(10, String(reply.body).split("\"ResultCode\":38001").size - 1)
    }

    @Test
    fun futureDecidersOfOneCallbackRunConcurrently() {
        val pool = Executors.newFixedThreadPool(20)
        try {
            val start = System.nanoTime()
            val reply = handler.handleFuture(query, twenty, { _, _ ->
                CompletableFuture.supplyAsync({ Thread.sleep(50); Decision.Allow }, pool)
            }, now).get(5, TimeUnit.SECONDS)
            val ms = (System.nanoTime() - start) / 1_000_000
            assertTrue(ms < 500, "20 items of 50 ms took $ms ms")
            assertEquals(20, String(reply.body).split("\"ResultCode\":0").size - 1)
        } finally {
            pool.shutdown()
        }
    }

    @Test
    fun itemsPastTheSharedDeadlineGetTheFailurePolicy() = runBlocking(Dispatchers.Default) {
        val quick = CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy"), deciderDeadlineMs = 100))
        assertEquals(100L, quick.deciderDeadlineMs)
        val failures = mutableListOf<DeciderFailure>()
        val reporting = CallbackHandler(
            HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy"), deciderDeadlineMs = 100),
        ) { failures += it }
        val start = System.nanoTime()
        val reply = reporting.handleAsync(query, body, now) { _, item ->
            // A decider that ignores cancellation does not hold the answer.
            if (item.index == 1) Thread.sleep(1_000) else delay(1)
            Decision.Allow
        }
        val ms = (System.nanoTime() - start) / 1_000_000
        assertTrue(ms < 900, "answered after $ms ms")
        assertTrue(String(reply.body).contains("{\"To_Account\":\"id2\",\"ResultCode\":38900,\"ResultInfo\":\"decision unavailable\"}"), String(reply.body))
        assertEquals(listOf("decider deadline exceeded"), failures.map { it.reason })
    }

    @Test
    fun aFailedDecisionIsToldToTheListenerInCoresWords() {
        val failures = mutableListOf<DeciderFailure>()
        val reporting = CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy"))) { failures += it }
        reporting.handle(query, body, { _, item -> if (item.index == 1) throw IllegalStateException("moderation service unreachable") else Decision.Allow }, now)
        assertEquals(1, failures.size)
        assertEquals(1, failures[0].index)
        assertEquals("id2", failures[0].toAccount)
        assertEquals(
            "decision for item 1 (To_Account \"id2\") failed: moderation service unreachable; answered by the failure policy",
            failures[0].report,
        )
        assertTrue("xxxxyyyy" !in failures[0].report)
        // A listener that throws costs nothing.
        val throwing = CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy"))) { error("listener down") }
        assertEquals(200, throwing.handle(query, body, { _, _ -> throw RuntimeException("x") }, now).status)
    }

    @Test
    fun theDefaultListenerWarnsOnTheFriendgateLogger() {
        val logger = Logger.getLogger("friendgate")
        val seen = mutableListOf<String>()
        val capture = object : Handler() {
            override fun publish(record: LogRecord) { seen += "${record.level} ${record.message}" }
            override fun flush() {}
            override fun close() {}
        }
        logger.addHandler(capture)
        try {
            handler.handle(query, body, { _, item -> if (item.index == 0) throw RuntimeException("db down") else Decision.Allow }, now)
        } finally {
            logger.removeHandler(capture)
        }
        assertEquals(listOf("WARNING decision for item 0 (To_Account \"id1\") failed: db down; answered by the failure policy"), seen)
    }

    @Test
    fun friendRequestsHaveTheirOwnTypesAndDeciders() = runBlocking {
        val addQuery = Testing.signedAddQuery(1400000000L, "xxxxyyyy", now)
        val addBody = Testing.sampleAddBody().toByteArray()
        val seen = mutableListOf<String>()
        val greeting = AddDecider { event, item ->
            seen += "${event.fromAccount} ${event.addType} ${event.forceAddFlags} ${item.index} ${item.toAccount} ${item.groupName} ${item.addSource} ${item.addWording}"
            if ("id2" in item.addWording) reject(38010, "greeting") else Decision.Allow
        }
        val expected = "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"id1\",\"ResultCode\":0,\"ResultInfo\":\"\"},{\"To_Account\":\"id2\",\"ResultCode\":38010,\"ResultInfo\":\"greeting\"}]}"
        assertEquals(expected, String(handler.handleAdd(addQuery, addBody, greeting, now).body))
        assertEquals("id Add_Type_Both 0 1 id2 group1 AddSource_Type_Android this is id2!", seen[1])
        // At the one URL, each command goes to its own decider.
        assertEquals(expected, String(handler.answer(addQuery, addBody, { _, _ -> reject(38001, "response") }, greeting, now).body))
        assertTrue(String(handler.answer(query, body, { _, _ -> reject(38001, "response") }, greeting, now).body).contains("38001"))
        val async = handler.handleAddAsync(addQuery, addBody, now) { event, item -> greeting.decide(event, item) }
        assertEquals(expected, String(async.body))
        val future = handler.handleAddFuture(addQuery, addBody, { event, item -> CompletableFuture.completedFuture(greeting.decide(event, item)) }, now)
        assertEquals(expected, String(future.get(5, TimeUnit.SECONDS).body))
        assertEquals(Route.FriendAdd, handler.route(addQuery, now))
        assertEquals("Add_Type_Both", handler.verifyAdd(addQuery, addBody, now).addType)
        // A forged friend request never reaches the decider.
        seen.clear()
        val forged = handler.handleAdd(Testing.signedAddQuery(1400000000L, "forged", now), addBody, greeting, now)
        assertEquals(401, forged.status)
        assertEquals(emptyList<String>(), seen)
    }

    @Test
    fun authenticateAndRouteAnyCommand() {
        val other = query.replace("Sns.CallbackPrevFriendResponse", "State.StateChange")
        val request = handler.authenticate(other, now)
        assertEquals(listOf<Any?>("State.StateChange", true, 1400000000L, now), listOf(request.command, request.commandKnown, request.sdkAppId, request.requestTime))
        assertEquals(Route.FriendResponse, handler.route(query, now))
        assertEquals("State.StateChange", (handler.route(other, now) as Route.Other).request.command)
        val refused = handler.route(other, now + 3600) as Route.Refused
        assertEquals("request_time_too_old", refused.reply.errorCode)
        val error = assertThrows(CallbackException.Refused::class.java) { handler.authenticate(other.replace("Sign=1", "Sign=2"), now) }
        assertEquals("bad_signature", error.code)
        assertEquals("{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\"}", String(processed().body))
    }

    @Test
    fun negativeNumbersAreCoresInvalidSetting() {
        val error = assertThrows(CallbackException.Refused::class.java) { CallbackHandler(HandlerConfig(appIds = listOf(-1L))) }
        assertEquals("invalid_setting", error.code)
        // Core's message, as every binding gives it (Python, Node: the same text).
        assertEquals("app_ids[0]: invalid value: integer `-1`, expected u64", error.reason)
    }

    @Test
    fun refusalIsCoresTransportAnswer() {
        val reply = refusal("overloaded", "")
        assertEquals(503, reply.status)
        assertEquals("overloaded", reply.errorCode)
        assertTrue(String(reply.body).contains("\"ErrorCode\":38042"))
        // Any other code throws core's message, as in every binding.
        val error = assertThrows(ArgumentException.Invalid::class.java) { refusal("bad_signature", "") }
        assertEquals(
            "bad_signature is not a transport refusal (method_not_allowed, request_timeout, overloaded, body_incomplete)",
            error.reason,
        )
    }

    @Test
    fun theErrorCatalogueIsCoresAsInEveryBinding() {
        val catalogue = errorCatalogue()
        assertEquals(ErrorEntry("bad_signature", 38012, 401, "signature"), catalogue.first { it.code == "bad_signature" })
        assertTrue(catalogue.all { it.errorCode in 38000..39000 })
        assertEquals(catalogue.size, catalogue.map { it.code }.toSet().size)
    }

    @Test
    fun exampleServerOverHttp() {
        val others = OtherCallbacks()
        val server = startServer(CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("xxxxyyyy"))), ExamplePolicy(), "127.0.0.1", 0, others)
        try {
            val base = "http://127.0.0.1:${server.address.port}/callback?${Testing.signedQuery(1400000000L, "xxxxyyyy")}"
            val client = HttpClient.newHttpClient()
            val payload = Testing.sampleBody().replace("id1", "banned_user")
            val response = client.send(
                HttpRequest.newBuilder(URI(base)).POST(HttpRequest.BodyPublishers.ofString(payload)).build(),
                HttpResponse.BodyHandlers.ofString(),
            )
            assertEquals(200, response.statusCode())
            assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""))
            assertEquals(
                "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"banned_user\",\"ResultCode\":38001,\"ResultInfo\":\"account is blocked\"},{\"To_Account\":\"id2\",\"ResultCode\":0,\"ResultInfo\":\"\"}]}",
                response.body(),
            )
            val other = "http://127.0.0.1:${server.address.port}/callback?" +
                Testing.signedQuery(1400000000L, "xxxxyyyy").replace("Sns.CallbackPrevFriendResponse", "C2C.CallbackAfterSendMsg")
            val forwarded = client.send(
                HttpRequest.newBuilder(URI(other)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString(),
            )
            assertEquals(200, forwarded.statusCode())
            assertEquals("{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\"}", forwarded.body())
            val forged = client.send(
                HttpRequest.newBuilder(URI(other.replace("Sign=", "Sign=0"))).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString(),
            )
            assertEquals(401, forged.statusCode())
            assertEquals(1, others.messagesSeen.get())
            // A friend request at the same URL: decided, its greeting read.
            val add = "http://127.0.0.1:${server.address.port}/callback?${Testing.signedAddQuery(1400000000L, "xxxxyyyy")}"
            val request = client.send(
                HttpRequest.newBuilder(URI(add))
                    .POST(HttpRequest.BodyPublishers.ofString(Testing.sampleAddBody().replace("this is id2!", "FREE money!")))
                    .build(),
                HttpResponse.BodyHandlers.ofString(),
            )
            assertEquals(
                "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"id1\",\"ResultCode\":0,\"ResultInfo\":\"\"},{\"To_Account\":\"id2\",\"ResultCode\":38002,\"ResultInfo\":\"text not allowed\"}]}",
                request.body(),
            )
            val get = client.send(HttpRequest.newBuilder(URI(base)).GET().build(), HttpResponse.BodyHandlers.ofString())
            assertEquals(405, get.statusCode())
            assertEquals("POST", get.headers().firstValue("Allow").orElse(""))
            assertTrue(get.body().startsWith("{\"ActionStatus\":\"FAIL\",\"ErrorCode\":38040,"), get.body())
        } finally {
            server.stop(0)
        }
    }
}
