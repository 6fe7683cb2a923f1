package dev.friendgate

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.io.File
import java.util.Base64

/** Every conformance vector through the Kotlin API, byte for byte. */
class VectorsTest {
    private companion object {
        const val FRIEND_ADD = "Sns.CallbackPrevFriendAdd"
    }

    /** Friend responses (the top folder), then friend requests (friend_add/), each marked with its command. */
    private val cases: List<JsonObject> = listOf(
        File(System.getProperty("friendgate.vectors")) to "Sns.CallbackPrevFriendResponse",
        File(System.getProperty("friendgate.vectors"), "friend_add") to FRIEND_ADD,
    ).flatMap { (dir, command) ->
        dir.listFiles { f -> f.name.endsWith(".json") }!!
            .sortedBy { it.name }
            .flatMap { file -> JsonParser.parseString(file.readText()).asJsonObject["cases"].asJsonArray.map { it.asJsonObject } }
            .onEach { it.addProperty("command", command) }
    }

    private fun handlerFor(config: JsonObject): CallbackHandler {
        val limits = config["limits"]?.asJsonObject?.let { l ->
            fun get(name: String) = l[name]?.asLong
            BodyLimits(get("max_body_bytes"), get("max_items"), get("max_user_id_bytes"), get("max_remark_bytes"), get("max_tag_name_bytes"), get("max_depth"))
        }
        val policy = config["on_decider_error"]?.asJsonObject?.let { p ->
            when (p["policy"].asString) {
                "reject" -> OnDeciderError.Reject(p["code"].asInt, p["info"].asString)
                "allow" -> OnDeciderError.Allow
                else -> OnDeciderError.FailCallback
            }
        }
        return CallbackHandler(
            HandlerConfig(
                appIds = config["app_ids"].asJsonArray.map { it.asLong },
                tokens = config["tokens"].asJsonArray.map { it.asString },
                windowSeconds = config["window_seconds"]?.asLong,
                limits = limits,
                onDeciderError = policy,
            ),
        )
    }

    /** A decider of either command following the case's script, through the public API. */
    private class Scripted(private val scripts: List<Any>) : Decider, AddDecider {
        override fun decide(event: FriendResponseCallback, item: ResponseItem): Decision = decide(item.index)

        override fun decide(event: FriendAddCallback, item: AddItem): Decision = decide(item.index)

        private fun decide(index: Int): Decision {
            val script = scripts.getOrNull(index) ?: "allow"
            if (script == "allow") return Decision.Allow
            val obj = script as JsonObject
            // Decision.Reject is checked by core when returned: out-of-range codes fail the decision.
            obj["reject"]?.asJsonObject?.let { return Decision.Reject(it["code"].asInt, it["info"].asString) }
            throw IllegalStateException(obj["fail"].asString)
        }
    }

    @Test
    fun thereAreManyVectors() {
        assertTrue(cases.size >= 50)
        assertTrue(cases.count { it["command"].asString == FRIEND_ADD } >= 40)
    }

    @TestFactory
    fun everyVector(): List<DynamicTest> = cases.map { case ->
        DynamicTest.dynamicTest(case["name"].asString) {
            val body = case["body_base64"]?.let { Base64.getDecoder().decode(it.asString) } ?: case["body"].asString.toByteArray()
            val scripts: List<Any> = case["decisions"]?.asJsonArray?.map { if (it.isJsonPrimitive) it.asString else it.asJsonObject } ?: emptyList()
            val handler = handlerFor(case["config"].asJsonObject)
            val decider = Scripted(scripts)
            val reply = if (case["command"].asString == FRIEND_ADD) {
                handler.handleAdd(case["query"].asString, body, decider, case["now"].asLong)
            } else {
                handler.handle(case["query"].asString, body, decider, case["now"].asLong)
            }
            val expect = case["expect"].asJsonObject
            assertEquals(expect["status"].asInt, reply.status)
            assertEquals(if (expect["error"].isJsonNull) null else expect["error"].asString, reply.errorCode)
            assertEquals(expect["body"].asString, String(reply.body, Charsets.UTF_8))
            assertEquals("application/json", reply.contentType)
        }
    }
}
