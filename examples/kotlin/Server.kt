// A callback server on the JDK's built-in HttpServer: POST http://127.0.0.1:8000/callback
// Run: make example-kotlin   (settings: FRIENDGATE_APP_ID, FRIENDGATE_TOKEN, HOST, PORT)
package dev.friendgate.example

import com.sun.net.httpserver.HttpServer
import dev.friendgate.AddDecider
import dev.friendgate.AddItem
import dev.friendgate.CallbackHandler
import dev.friendgate.Decider
import dev.friendgate.Decision
import dev.friendgate.FriendAddCallback
import dev.friendgate.FriendResponseCallback
import dev.friendgate.HandlerConfig
import dev.friendgate.CallbackRequest
import dev.friendgate.Reply
import dev.friendgate.ResponseItem
import dev.friendgate.Route
import dev.friendgate.refusal
import dev.friendgate.reject
import java.net.InetSocketAddress

/** Blocked accounts and banned words, as in the other examples, for friend
 * responses and friend requests (where the greeting, AddWording, is read too). */
class ExamplePolicy : Decider, AddDecider {
    private val blocked = setOf("spam_ring_001", "spam_ring_002", "banned_user")
    private val words = listOf("free money", "casino")

    override fun decide(event: FriendResponseCallback, item: ResponseItem): Decision =
        decide(event.fromAccount, item.toAccount, "${item.remark} ${item.tagName}")

    override fun decide(event: FriendAddCallback, item: AddItem): Decision =
        decide(event.fromAccount, item.toAccount, "${item.remark} ${item.groupName} ${item.addWording}")

    private fun decide(from: String, to: String, text: String): Decision {
        if (from in blocked || to in blocked) return reject(38001, "account is blocked")
        if (words.any { it in text.lowercase() }) return reject(38002, "text not allowed")
        return Decision.Allow
    }
}

/** The app's own handler for its other callbacks at the same URL (friendgate
 * has authenticated them; forged ones never get here): here it counts C2C
 * messages and answers "processed" to every command. */
class OtherCallbacks {
    val messagesSeen = java.util.concurrent.atomic.AtomicInteger()

    fun answer(request: CallbackRequest, body: ByteArray): Reply {
        if (request.command == "C2C.CallbackAfterSendMsg") messagesSeen.incrementAndGet()
        return Reply(200, "application/json", OK, null)
    }

    private companion object {
        val OK = """{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}""".toByteArray()
    }
}

/** Starts the server on `host:port` (port 0 picks one) and returns it. */
fun startServer(
    handler: CallbackHandler,
    decider: ExamplePolicy,
    host: String,
    port: Int,
    others: OtherCallbacks = OtherCallbacks(),
): HttpServer {
    val server = HttpServer.create(InetSocketAddress(host, port), 0)
    server.createContext("/callback") { exchange ->
        exchange.use {
            val query = it.requestURI.rawQuery ?: ""
            val reply = if (it.requestMethod == "POST") {
                // The one callback URL: authenticated before the body is read.
                when (val route = handler.route(query)) {
                    is Route.Refused -> route.reply
                    is Route.Other -> others.answer(route.request, it.requestBody.readAllBytes())
                    is Route.FriendResponse, is Route.FriendAdd ->
                        handler.answer(query, it.requestBody.readAllBytes(), decider, decider)
                }
            } else {
                it.responseHeaders.add("Allow", "POST")
                refusal("method_not_allowed", it.requestMethod)
            }
            it.responseHeaders.add("Content-Type", reply.contentType)
            it.sendResponseHeaders(reply.status, reply.body.size.toLong())
            it.responseBody.write(reply.body)
        }
    }
    server.start()
    return server
}

fun main() {
    val env = System.getenv()
    val handler = CallbackHandler(
        HandlerConfig(
            appIds = listOf((env["FRIENDGATE_APP_ID"] ?: "1400000000").toLong()),
            tokens = listOf(env["FRIENDGATE_TOKEN"] ?: "xxxxyyyy"),
        ),
    )
    val host = env["HOST"] ?: "127.0.0.1"
    val port = (env["PORT"] ?: "8000").toInt()
    startServer(handler, ExamplePolicy(), host, port)
    println("friendgate Kotlin example on http://$host:$port/callback")
}
