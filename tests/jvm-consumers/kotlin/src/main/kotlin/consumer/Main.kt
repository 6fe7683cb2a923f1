package consumer

import dev.friendgate.CallbackHandler
import dev.friendgate.HandlerConfig
import dev.friendgate.Testing
import dev.friendgate.allow
import dev.friendgate.jniCalls
import dev.friendgate.reject
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking

/** Answers one signed callback with a suspending decider; fails unless the answer is exact. */
fun main() = runBlocking {
    check(System.getProperty("jna.library.path") == null) { "the library must come from the jar" }
    CallbackHandler(HandlerConfig(appIds = listOf(1400000000L), tokens = listOf("token"))).use { handler ->
        val reply = handler.handleAsync(Testing.signedQuery(1400000000L, "token"), Testing.sampleBody().toByteArray()) { _, item ->
            delay(1)
            if (item.toAccount == "id2") reject(38001, "no") else allow()
        }
        val answer = reply.body.decodeToString()
        check(reply.status == 200 && answer.contains("""{"To_Account":"id2","ResultCode":38001,"ResultInfo":"no"}""")) { "${reply.status} $answer" }
        // The hot path crossed over JNI into the copy of the library UniFFI
        // loaded from the jar (a second copy would count apart).
        check(jniCalls() == 1L) { "JNI begin calls seen by UniFFI: ${jniCalls()}" }
        println("kotlin consumer ok")
    }
}
