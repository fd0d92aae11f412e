package io.stratafs.store.s3;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.utils.AttributeMap;

/**
 * Ends a request only when it stops moving bytes, however long it has been moving: a timeout on the
 * whole request fails every upload on a link too slow to carry the object in that time (4 MiB in
 * 30 s needs 1.1 Mbit/s per connection), and a socket timeout watches only reads, while a write
 * into a stalled connection blocks for as long as the peer keeps the connection open.
 *
 * <p>Progress on a request body is each read of it by the HTTP client, which happens as the socket
 * accepts bytes; a request with a body is aborted once none has been read for the stall timeout
 * before its answer arrives. What the kernel has already accepted is invisible, so from the last
 * read the link has the stall timeout to drain it and the server to answer: a couple of round
 * trips' worth on a real link, whatever its bandwidth. Reads (answers, downloads) are watched by the
 * socket timeout, set to the same value. A stall before the answer is reported as a stall.
 */
final class StallDetectingHttpClient implements SdkHttpClient {
    private final SdkHttpClient delegate;
    private final long stallNanos;
    private final ScheduledThreadPoolExecutor watchdog;

    private StallDetectingHttpClient(SdkHttpClient delegate, Duration stallTimeout) {
        this.delegate = delegate;
        this.stallNanos = stallTimeout.toNanos();
        this.watchdog = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "s3-stall-watchdog");
            t.setDaemon(true);
            return t;
        });
        watchdog.setRemoveOnCancelPolicy(true);
    }

    /** Wraps an HTTP client builder, so the SDK still configures and closes the client it builds. */
    static SdkHttpClient.Builder<?> wrap(SdkHttpClient.Builder<?> delegate, Duration stallTimeout) {
        return new Builder(delegate, stallTimeout);
    }

    @Override
    public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
        Exchange exchange = new Exchange(request.httpRequest().host() + ":" + request.httpRequest().port(),
                request.contentStreamProvider().isPresent());
        if (!exchange.hasBody) {
            exchange.delegate = delegate.prepareRequest(request);
            return exchange;
        }
        ContentStreamProvider body = request.contentStreamProvider().get();
        HttpExecuteRequest.Builder counted = HttpExecuteRequest.builder().request(request.httpRequest())
                .contentStreamProvider(new ContentStreamProvider() {
                    @Override
                    public InputStream newStream() {
                        return new ProgressStream(body.newStream(), exchange);
                    }

                    @Override
                    public String name() {
                        return body.name();
                    }
                });
        request.metricCollector().ifPresent(counted::metricCollector);
        exchange.delegate = delegate.prepareRequest(counted.build());
        return exchange;
    }

    @Override
    public String clientName() {
        return delegate.clientName();
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        delegate.close();
    }

    /** The request body moved for the last time too long ago; the message says so to the user. */
    static final class StalledException extends IOException {
        StalledException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** One attempt of a request, and the watchdog on its body if it has one. */
    private final class Exchange implements ExecutableHttpRequest {
        private final String peer;
        private final boolean hasBody;
        private ExecutableHttpRequest delegate;
        private volatile long lastProgress;
        private volatile boolean finished;
        private volatile boolean stalled;
        private volatile ScheduledFuture<?> check;

        Exchange(String peer, boolean hasBody) {
            this.peer = peer;
            this.hasBody = hasBody;
        }

        @Override
        public HttpExecuteResponse call() throws IOException {
            lastProgress = System.nanoTime();
            if (hasBody) {
                arm(stallNanos);
            }
            try {
                return delegate.call();
            } catch (SocketTimeoutException e) {
                throw stalledException(e);
            } catch (IOException | RuntimeException e) {
                if (stalled) {
                    throw stalledException(e);
                }
                throw e;
            } finally {
                finished = true;
                ScheduledFuture<?> c = check;
                if (c != null) {
                    c.cancel(false);
                }
            }
        }

        private StalledException stalledException(Exception cause) {
            return new StalledException("the connection to " + peer + " stalled: no bytes moved for "
                    + TimeUnit.NANOSECONDS.toSeconds(stallNanos) + " s", cause);
        }

        private void arm(long delayNanos) {
            check = watchdog.schedule(this::checkProgress, delayNanos, TimeUnit.NANOSECONDS);
        }

        private void checkProgress() {
            if (finished) {
                return;
            }
            long idle = System.nanoTime() - lastProgress;
            if (idle < stallNanos) {
                arm(stallNanos - idle);
                return;
            }
            stalled = true;
            delegate.abort();
        }

        void progressed() {
            lastProgress = System.nanoTime();
        }

        @Override
        public void abort() {
            delegate.abort();
        }
    }

    /** Counts the body's bytes as the HTTP client takes them. */
    private static final class ProgressStream extends FilterInputStream {
        private final Exchange exchange;

        ProgressStream(InputStream in, Exchange exchange) {
            super(in);
            this.exchange = exchange;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            exchange.progressed();
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            exchange.progressed();
            return n;
        }
    }

    private static final class Builder implements SdkHttpClient.Builder<Builder> {
        private final SdkHttpClient.Builder<?> delegate;
        private final Duration stallTimeout;

        Builder(SdkHttpClient.Builder<?> delegate, Duration stallTimeout) {
            this.delegate = delegate;
            this.stallTimeout = stallTimeout;
        }

        @Override
        public SdkHttpClient buildWithDefaults(AttributeMap serviceDefaults) {
            return new StallDetectingHttpClient(delegate.buildWithDefaults(serviceDefaults), stallTimeout);
        }
    }
}
