package io.stratafs.journal;

/**
 * What keeping peers up to date costs one site in object-store requests over a 30-day month, from
 * how this package polls and publishes: a {@link PollSchedule} per peer (one GET of the peer's head
 * per poll), and per published segment one GET (own head) and two PUTs (segment, head), and per
 * segment a peer publishes one GET to fetch it (a LIST too when several arrive between two polls).
 * Idle: nobody writes, every peer is polled at the slowest interval. Busy: this site and every peer
 * publish a segment every {@code publishMillis}, all month long (an upper bound). A site with several
 * targets publishes to each, so its PUTs multiply by its target count.
 *
 * <p>With the defaults (a 1 s cap) idle costs 2,592,000 GETs per peer per month, about 1.04 USD per
 * peer at {@link #GET_PER_1000} (0.4 USD per million); the 10 s cap before cost a tenth of that but
 * let the first change after a pause take up to 10 s.
 */
public record PollingCost(int peers, long fastMillis, long maxMillis, long publishMillis) {
    public static final long MONTH_MILLIS = 30L * 24 * 3600 * 1000;
    /** S3 Standard list prices in us-east-1 (2025), dollars per 1,000 requests: PUT/LIST and GET. */
    public static final double PUT_OR_LIST_PER_1000 = 0.005;
    public static final double GET_PER_1000 = 0.0004;

    public PollingCost {
        if (peers < 0 || fastMillis < 1 || maxMillis < fastMillis || publishMillis < 1) {
            throw new IllegalArgumentException("polling cost needs peers >= 0, 1 <= fast <= max and a publish interval >= 1 ms");
        }
    }

    /** The defaults of {@link PollSchedule} for {@code peers} peers, publishing every {@code publishMillis} when busy. */
    public static PollingCost defaults(int peers, long publishMillis) {
        return new PollingCost(peers, PollSchedule.FAST_MILLIS, PollSchedule.MAX_MILLIS, publishMillis);
    }

    /** Request counts per site per month. */
    public record Requests(long gets, long puts, long lists) {
        /** At {@link #PUT_OR_LIST_PER_1000} and {@link #GET_PER_1000}. */
        public double dollars() {
            return gets / 1000.0 * GET_PER_1000 + (puts + lists) / 1000.0 * PUT_OR_LIST_PER_1000;
        }
    }

    public Requests idle() {
        return new Requests(peers * (MONTH_MILLIS / maxMillis), 0, 0);
    }

    public Requests busy() {
        long segments = MONTH_MILLIS / publishMillis;
        long polls = MONTH_MILLIS / fastMillis;
        long lists = publishMillis < fastMillis ? peers * polls : 0;
        return new Requests(segments + peers * (polls + segments), 2 * segments, lists);
    }
}
