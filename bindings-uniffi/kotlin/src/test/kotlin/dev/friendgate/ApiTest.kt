package dev.friendgate

import dev.friendgate.example.ExamplePolicy
import dev.friendgate.example.startServer
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

class ApiTest {
    private val now = 1669872112uL
    private val handler = CallbackHandler(HandlerConfig(appIds = listOf(1400000000uL), tokens = listOf("xxxxyyyy")))
    private val query = signedQuery(1400000000uL, "xxxxyyyy", now)
    private val body = sampleBody().toByteArray()

    @Test
    fun knownSign() {
        assertEquals("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", sign("xxxxyyyy", now))
    }

    @Test
    fun deciderSeesTheContext() {
        val seen = mutableListOf<String>()
        handler.handle(query, body, object : Decider {
            override fun decide(event: FriendResponseCallback, item: ResponseItem): Decision {
                seen += "${event.sdkAppId} ${event.platform} ${event.clientIp} ${event.fromAccount} ${event.eventTimeMs} ${item.index} ${item.toAccount} ${item.remark} ${item.action} ${item.isAccept}"
                return Decision.Allow
            }
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
        val throwing = object : Decider {
            override fun decide(event: FriendResponseCallback, item: ResponseItem): Decision = throw RuntimeException("db down")
        }
        val reply = handler.handle(query, body, throwing, now)
        assertEquals(200, reply.status.toInt())
        assertEquals(2, String(reply.body).split("\"ResultCode\":38900,\"ResultInfo\":\"decision unavailable\"").size - 1)
        val strict = CallbackHandler(HandlerConfig(appIds = listOf(1400000000uL), tokens = listOf("xxxxyyyy"), onDeciderError = OnDeciderError.FailCallback))
        val failed = strict.handle(query, body, throwing, now)
        assertEquals(500, failed.status.toInt())
        assertTrue(String(failed.body).contains("db down"), String(failed.body))
    }

    @Test
    fun errorsCarryCoreCodes() {
        val error = assertThrows(CallbackException.Refused::class.java) { handler.verify(query.replace("Sign=1", "Sign=2"), body, now) }
        assertEquals("bad_signature", error.code)
        assertEquals(401, error.httpStatus.toInt())
        assertEquals(38012u, error.errorCode)
        assertEquals("Sign does not match", error.reason)
        val invalid = assertThrows(CallbackException.Refused::class.java) { reject(37999, "low") }
        assertEquals("invalid_result_code", invalid.code)
        val config = assertThrows(CallbackException.Refused::class.java) { CallbackHandler(HandlerConfig(appIds = emptyList())) }
        assertEquals("no_app_ids", config.code)
        // Core's code and message, the same in every language.
        val policy = assertThrows(CallbackException.Refused::class.java) {
            CallbackHandler(HandlerConfig(appIds = listOf(1uL), onDeciderError = OnDeciderError.Reject(5u, "x")))
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
            String(allowAllResponse(listOf("a"))),
        )
        assertEquals("{\"ActionStatus\":\"FAIL\",\"ErrorCode\":38500,\"ErrorInfo\":\"down\",\"ResultItem\":[]}", String(failResponse(38500, "down")))
        assertEquals(
            "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"a\",\"ResultCode\":0,\"ResultInfo\":\"\"},{\"To_Account\":\"b\",\"ResultCode\":38001,\"ResultInfo\":\"spam\"}]}",
            String(buildResponse(listOf("a", "b"), listOf(Decision.Allow, Decision.Reject(38001u, "spam")))),
        )
        assertThrows(CallbackException.Refused::class.java) { buildResponse(listOf("a"), listOf(Decision.Reject(1u, "x"))) }
    }

    @Test
    fun oneHandlerSharedByThreads() {
        val pool = Executors.newFixedThreadPool(8)
        val results = (1..8).map { n ->
            pool.submit<Boolean> {
                val items = sampleBody(n.toUInt()).toByteArray()
                (1..100).all {
                    val reply = handler.handle(signedQuery(1400000000uL, "xxxxyyyy", now), items, object : Decider {
                        override fun decide(event: FriendResponseCallback, item: ResponseItem) = reject(38001, "t$n")
                    }, now)
                    String(reply.body).split("\"ResultInfo\":\"t$n\"").size - 1 == n
                }
            }
        }
        assertTrue(results.all { it.get(30, TimeUnit.SECONDS) })
        pool.shutdown()
    }

    @Test
    fun refusalIsCoresTransportAnswer() {
        val reply = refusal("overloaded", "")!!
        assertEquals(503, reply.status.toInt())
        assertEquals("overloaded", reply.errorCode)
        assertTrue(String(reply.body).contains("\"ErrorCode\":38042"))
        assertEquals(null, refusal("bad_signature", ""))
    }

    @Test
    fun exampleServerOverHttp() {
        val server = startServer(CallbackHandler(HandlerConfig(appIds = listOf(1400000000uL), tokens = listOf("xxxxyyyy"))), ExamplePolicy(), "127.0.0.1", 0)
        try {
            val base = "http://127.0.0.1:${server.address.port}/callback?${signedQuery(1400000000uL, "xxxxyyyy", null)}"
            val client = HttpClient.newHttpClient()
            val payload = sampleBody().replace("id1", "banned_user")
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
            val get = client.send(HttpRequest.newBuilder(URI(base)).GET().build(), HttpResponse.BodyHandlers.ofString())
            assertEquals(405, get.statusCode())
            assertEquals("POST", get.headers().firstValue("Allow").orElse(""))
            assertTrue(get.body().startsWith("{\"ActionStatus\":\"FAIL\",\"ErrorCode\":38040,"), get.body())
        } finally {
            server.stop(0)
        }
    }
}
