package consumer;

import dev.friendgate.CallbackHandler;
import dev.friendgate.Friendgate;
import dev.friendgate.HandlerConfig;
import dev.friendgate.Reply;
import dev.friendgate.Testing;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Answers one signed callback, then runs the README's example; exits non-zero unless both answers are exact. */
public final class Main {
    private static final String EXPECTED = "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":["
        + "{\"To_Account\":\"id1\",\"ResultCode\":0,\"ResultInfo\":\"\"},"
        + "{\"To_Account\":\"id2\",\"ResultCode\":38001,\"ResultInfo\":\"%s\"}]}";

    public static void main(String[] args) {
        if (System.getProperty("jna.library.path") != null) throw new AssertionError("the library must come from the jar");
        HandlerConfig config = HandlerConfig.builder().appIds(1400000000L).tokens("token").build();
        String query = Testing.signedQuery(1400000000L, "token");
        byte[] body = Testing.sampleBody().getBytes(StandardCharsets.UTF_8);
        try (CallbackHandler handler = new CallbackHandler(config)) {
            Reply reply = handler.handle(query, body, (event, item) ->
                item.getToAccount().equals("id2") ? Friendgate.reject(38001, "no") : Friendgate.allow());
            check(reply.getStatus(), reply.getBody(), String.format(EXPECTED, "no"));
        }
        ReadmeExample readme = new ReadmeExample();
        readme.run(query, body, "token", Set.of("id2"));
        if (readme.sent.size() != 1) throw new AssertionError("the README example sent " + readme.sent.size() + " answers");
        check((Integer) readme.sent.get(0)[0], (byte[]) readme.sent.get(0)[1], String.format(EXPECTED, "account is blocked"));
        System.out.println("java consumer ok");
    }

    private static void check(int status, byte[] body, String expected) {
        String answer = new String(body, StandardCharsets.UTF_8);
        if (status != 200 || !answer.equals(expected)) throw new AssertionError(status + " " + answer);
    }
}
