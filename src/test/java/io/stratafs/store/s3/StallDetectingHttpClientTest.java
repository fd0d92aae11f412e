package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.utils.AttributeMap;

/**
 * The watchdog alone, over a fake HTTP client that takes the body as a link would, with no kernel
 * buffer in between: a body that keeps moving is never cut off, one that stops is aborted.
 */
class StallDetectingHttpClientTest {
    private static final Duration STALL = Duration.ofSeconds(1);

    /** Takes the body 8 KiB at a time, pausing between reads as a slow link would. */
    private static final class FakeLink implements ExecutableHttpRequest {
        final HttpExecuteRequest request;
        final long pauseMillis;
        final int readsBeforeStalling;
        final CountDownLatch aborted = new CountDownLatch(1);
        final AtomicBoolean completed = new AtomicBoolean();

        FakeLink(HttpExecuteRequest request, long pauseMillis, int readsBeforeStalling) {
            this.request = request;
            this.pauseMillis = pauseMillis;
            this.readsBeforeStalling = readsBeforeStalling;
        }

        @Override
        public HttpExecuteResponse call() throws IOException {
            byte[] buf = new byte[8192];
            try (InputStream in = request.contentStreamProvider().orElseThrow().newStream()) {
                for (int reads = 0; in.read(buf) >= 0; reads++) {
                    if (reads == readsBeforeStalling && aborted.await(30, TimeUnit.SECONDS)) {
                        throw new IOException("connection aborted");
                    }
                    Thread.sleep(pauseMillis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            completed.set(true);
            return HttpExecuteResponse.builder().response(SdkHttpResponse.builder().statusCode(200).build()).build();
        }

        @Override
        public void abort() {
            aborted.countDown();
        }
    }

    private FakeLink last;

    private SdkHttpClient client(long pauseMillis, int readsBeforeStalling) {
        SdkHttpClient fake = new SdkHttpClient() {
            @Override
            public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
                last = new FakeLink(request, pauseMillis, readsBeforeStalling);
                return last;
            }

            @Override
            public void close() {
            }
        };
        return StallDetectingHttpClient.wrap(new FakeBuilder(fake), STALL).buildWithDefaults(AttributeMap.empty());
    }

    private record FakeBuilder(SdkHttpClient fake) implements SdkHttpClient.Builder<FakeBuilder> {
        @Override
        public SdkHttpClient buildWithDefaults(AttributeMap defaults) {
            return fake;
        }
    }

    private static HttpExecuteRequest put(int size) {
        SdkHttpFullRequest http = SdkHttpFullRequest.builder().method(SdkHttpMethod.PUT).protocol("http").host("127.0.0.1")
                .port(9).encodedPath("/bucket/key").putHeader("Content-Length", Integer.toString(size)).build();
        return HttpExecuteRequest.builder().request(http).contentStreamProvider(ContentStreamProvider.fromByteArray(new byte[size])).build();
    }

    @Test
    void aBodyThatKeepsMovingIsNeverCutOff() throws Exception {
        try (SdkHttpClient c = client(100, -1)) {
            long start = System.nanoTime();
            assertEquals(200, c.prepareRequest(put(40 * 8192)).call().httpResponse().statusCode());
            long took = System.nanoTime() - start;
            assertTrue(took > 3 * STALL.toNanos(), "the fake link was not slow: " + took / 1_000_000 + " ms");
            assertTrue(last.completed.get());
        }
    }

    @Test
    void aBodyThatStopsIsAbortedAfterTheStallTimeout() throws Exception {
        try (SdkHttpClient c = client(10, 4)) {
            ExecutableHttpRequest r = c.prepareRequest(put(40 * 8192));
            long start = System.nanoTime();
            IOException e = assertThrows(StallDetectingHttpClient.StalledException.class, r::call);
            long took = System.nanoTime() - start;
            assertEquals("the connection to 127.0.0.1:9 stalled: no bytes moved for 1 s", e.getMessage());
            assertTrue(took >= STALL.toNanos() && took < STALL.toNanos() + 1_000_000_000L, took / 1_000_000 + " ms");
            assertFalse(last.completed.get());
        }
    }
}
