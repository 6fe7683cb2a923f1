package consumer;

import dev.friendgate.CallbackHandler;
import dev.friendgate.Friendgate;
import dev.friendgate.HandlerConfig;
import dev.friendgate.Reply;
import dev.friendgate.Testing;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Answers one signed callback; exits non-zero unless the answer is exact. */
public final class Main {
    public static void main(String[] args) {
        if (System.getProperty("jna.library.path") != null) throw new AssertionError("the library must come from the jar");
        HandlerConfig config = new HandlerConfig(List.of(1400000000L), List.of("token"), null, null, null, null);
        try (CallbackHandler handler = new CallbackHandler(config)) {
            String query = Testing.signedQuery(1400000000L, "token", null);
            byte[] body = Testing.sampleBody(null).getBytes(StandardCharsets.UTF_8);
            Reply reply = handler.handle(query, body, (event, item) ->
                item.getToAccount().equals("id2") ? Friendgate.reject(38001, "no") : Friendgate.allow());
            String answer = new String(reply.getBody(), StandardCharsets.UTF_8);
            String expected = "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":["
                + "{\"To_Account\":\"id1\",\"ResultCode\":0,\"ResultInfo\":\"\"},"
                + "{\"To_Account\":\"id2\",\"ResultCode\":38001,\"ResultInfo\":\"no\"}]}";
            if (reply.getStatus() != 200 || !answer.equals(expected)) throw new AssertionError(reply.getStatus() + " " + answer);
            System.out.println("java consumer ok");
        }
    }
}
