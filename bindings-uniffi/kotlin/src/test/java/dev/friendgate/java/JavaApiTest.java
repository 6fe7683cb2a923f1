package dev.friendgate.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.friendgate.BodyLimits;
import dev.friendgate.CallbackException;
import dev.friendgate.CallbackHandler;
import dev.friendgate.Decision;
import dev.friendgate.DeciderFailure;
import dev.friendgate.FriendResponseCallback;
import dev.friendgate.Friendgate;
import dev.friendgate.HandlerConfig;
import dev.friendgate.OnDeciderError;
import dev.friendgate.Reply;
import dev.friendgate.Response;
import dev.friendgate.Testing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The Kotlin API from plain Java 17 source: no reflection, no mangled names. */
class JavaApiTest {
    private static final long NOW = 1669872112L;
    private static final HandlerConfig CONFIG = HandlerConfig.builder().appIds(1400000000L).tokens("xxxxyyyy").build();
    private final String query = Testing.signedQuery(1400000000L, "xxxxyyyy", NOW);
    private final byte[] body = Testing.sampleBody().getBytes(StandardCharsets.UTF_8);

    @Test
    void handleWithALambdaDecider() {
        try (CallbackHandler handler = new CallbackHandler(CONFIG)) {
            Reply reply = handler.handle(query, body, (event, item) ->
                item.getIndex() == 1 ? Friendgate.reject(38001, "spam") : Friendgate.allow(), NOW);
            assertEquals(200, reply.getStatus());
            assertEquals("application/json", reply.getContentType());
            assertEquals(
                "{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"id1\",\"ResultCode\":0,\"ResultInfo\":\"\"},{\"To_Account\":\"id2\",\"ResultCode\":38001,\"ResultInfo\":\"spam\"}]}",
                new String(reply.getBody(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void nullFromAJavaDeciderIsCoresWordedFailure() {
        List<DeciderFailure> failures = new ArrayList<>();
        try (CallbackHandler handler = new CallbackHandler(CONFIG, failures::add)) {
            Reply reply = handler.handle(query, body, (event, item) -> null, NOW);
            assertTrue(new String(reply.getBody(), StandardCharsets.UTF_8).contains("\"ResultCode\":38900"));
        }
        assertEquals(2, failures.size());
        assertEquals("decide returned no decision, expected allow or reject", failures.get(0).getReason());
    }

    @Test
    void errorsCarryCoresCodeStatusAndErrorCode() {
        try (CallbackHandler handler = new CallbackHandler(CONFIG)) {
            CallbackException.Refused error = assertThrows(CallbackException.Refused.class,
                () -> handler.verify(query.replace("Sign=1", "Sign=2"), body, NOW));
            assertEquals("bad_signature", error.getCode());
            assertEquals(401, error.getHttpStatus());
            assertEquals(38012, error.getErrorCode());
            FriendResponseCallback event = handler.verify(query, body, NOW);
            assertEquals(1400000000L, event.getSdkAppId());
            assertEquals(Long.valueOf(NOW), event.getRequestTime());
        }
        CallbackException.Refused policy = assertThrows(CallbackException.Refused.class,
            () -> new CallbackHandler(HandlerConfig.builder().appIds(1L).onDeciderError(new OnDeciderError.Reject(5, "x")).build()));
        assertEquals("invalid_result_code", policy.getCode());
        assertEquals("on_decider_error.code: result code 5 is outside [38000, 39000]", policy.getReason());
    }

    @Test
    void futuresAndHandMadeAnswers() throws Exception {
        try (CallbackHandler handler = new CallbackHandler(CONFIG)) {
            Reply reply = handler.handleFuture(query, body,
                (event, item) -> CompletableFuture.supplyAsync(() -> (Decision) Decision.Allow.INSTANCE), NOW)
                .get(5, TimeUnit.SECONDS);
            assertEquals(200, reply.getStatus());
            assertEquals(1500L, handler.getDeciderDeadlineMs());
        }
        assertEquals("{\"ActionStatus\":\"FAIL\",\"ErrorCode\":38500,\"ErrorInfo\":\"down\",\"ResultItem\":[]}",
            new String(Response.fail(38500, "down").toBytes(), StandardCharsets.UTF_8));
        assertTrue(new String(Response.allowAll(List.of("a")).reject("a", 38001, "x").toBytes(), StandardCharsets.UTF_8)
            .contains("\"ResultCode\":38001"));
    }

    @Test
    void theBuilderSetsWhatItIsGivenAndLeavesTheRestToCore() {
        HandlerConfig config = HandlerConfig.builder()
            .appIds(List.of(1400000000L, 1400000001L))
            .tokens("new", "old")
            .windowSeconds(30)
            .limits(BodyLimits.builder().maxItems(1).build())
            .onDeciderError(OnDeciderError.Allow.INSTANCE)
            .deciderDeadlineMs(100)
            .build();
        assertEquals(new HandlerConfig(List.of(1400000000L, 1400000001L), List.of("new", "old"), 30L,
            new BodyLimits(null, 1L, null, null, null, null), OnDeciderError.Allow.INSTANCE, 100L), config);
        try (CallbackHandler handler = new CallbackHandler(config)) {
            assertEquals(100L, handler.getDeciderDeadlineMs());
            Reply reply = handler.handle(Testing.signedQuery(1400000001L, "old", NOW), body, null, NOW);
            assertEquals(413, reply.getStatus(), "two items past maxItems = 1");
        }
        assertEquals(HandlerConfig.builder().appIds(1L).build(), new HandlerConfig(List.of(1L), List.of(), null, null, null, null));
    }

    @Test
    void refusalsAreCaughtByTheirTypeAroundAnyCall() {
        // javac refuses to compile a catch of a checked exception that no
        // call in the try declares: Refused is unchecked, so both compile.
        try {
            new CallbackHandler(HandlerConfig.builder().build());
            fail("a configuration without app ids is refused");
        } catch (CallbackException.Refused e) {
            assertEquals("no_app_ids", e.getCode());
            assertEquals(0, e.getHttpStatus());
        }
        try (CallbackHandler handler = new CallbackHandler(CONFIG)) {
            Reply reply = handler.handle(query, body, (event, item) -> Friendgate.reject(5, "out of range"), NOW);
            assertTrue(new String(reply.getBody(), StandardCharsets.UTF_8).contains("\"ResultCode\":38900"));
            handler.verify(query, "{".getBytes(StandardCharsets.UTF_8), NOW);
            fail("a broken body is refused");
        } catch (CallbackException.Refused e) {
            assertEquals("malformed_json", e.getCode());
            assertEquals(RuntimeException.class, CallbackException.class.getSuperclass());
        }
    }
}
