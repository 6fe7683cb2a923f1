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
    private val cases: List<JsonObject> =
        File(System.getProperty("friendgate.vectors")).listFiles { f -> f.name.endsWith(".json") }!!
            .sortedBy { it.name }
            .flatMap { file -> JsonParser.parseString(file.readText()).asJsonObject["cases"].asJsonArray.map { it.asJsonObject } }

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

    /** A decider following the case's script, through the public API. */
    private class Scripted(private val scripts: List<Any>) : Decider {
        override fun decide(event: FriendResponseCallback, item: ResponseItem): Decision {
            val script = scripts.getOrNull(item.index) ?: "allow"
            if (script == "allow") return Decision.Allow
            val obj = script as JsonObject
            // Decision.Reject is checked by core when returned: out-of-range codes fail the decision.
            obj["reject"]?.asJsonObject?.let { return Decision.Reject(it["code"].asInt, it["info"].asString) }
            throw IllegalStateException(obj["fail"].asString)
        }
    }

    @Test
    fun thereAreManyVectors() = assertTrue(cases.size >= 50)

    @TestFactory
    fun everyVector(): List<DynamicTest> = cases.map { case ->
        DynamicTest.dynamicTest(case["name"].asString) {
            val body = case["body_base64"]?.let { Base64.getDecoder().decode(it.asString) } ?: case["body"].asString.toByteArray()
            val scripts: List<Any> = case["decisions"]?.asJsonArray?.map { if (it.isJsonPrimitive) it.asString else it.asJsonObject } ?: emptyList()
            val reply = handlerFor(case["config"].asJsonObject).handle(case["query"].asString, body, Scripted(scripts), case["now"].asLong)
            val expect = case["expect"].asJsonObject
            assertEquals(expect["status"].asInt, reply.status)
            assertEquals(if (expect["error"].isJsonNull) null else expect["error"].asString, reply.errorCode)
            assertEquals(expect["body"].asString, String(reply.body, Charsets.UTF_8))
            assertEquals("application/json", reply.contentType)
        }
    }
}
