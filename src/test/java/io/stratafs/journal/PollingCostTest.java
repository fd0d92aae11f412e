package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The request budget README quotes; printed so the figures can be copied from the test output. */
class PollingCostTest {

    @Test
    void idleCostIsOneHeadGetPerPeerPerMaximumInterval() {
        PollingCost.Requests idle = PollingCost.defaults(2, 1000).idle();
        // a 1 s cap: 2,592,000 head GETs per peer per month, 1.04 USD per peer at 0.4 USD per million GETs
        assertEquals(new PollingCost.Requests(2 * 2_592_000, 0, 0), idle);
        assertEquals(2.074, idle.dollars(), 0.001);
    }

    @Test
    void busyCostCountsPublishingPollingAndFetching() {
        PollingCost.Requests busy = PollingCost.defaults(1, 1000).busy();
        // own: 2,592,000 segments = that many head GETs and twice as many PUTs; the peer: 10,368,000 polls + 2,592,000 segments
        assertEquals(new PollingCost.Requests(2_592_000 + 10_368_000 + 2_592_000, 5_184_000, 0), busy);
        PollingCost.Requests faster = PollingCost.defaults(1, 100).busy();
        assertEquals(10_368_000, faster.lists(), "several segments per poll need a listing");
    }

    @Test
    void printTheTable() {
        System.out.println("| peers | idle GET | idle $ | busy GET | busy PUT | busy LIST | busy $ |");
        for (int peers : new int[] {1, 2, 4, 9}) {
            PollingCost c = PollingCost.defaults(peers, 1000);
            PollingCost.Requests idle = c.idle();
            PollingCost.Requests busy = c.busy();
            System.out.printf("| %d | %,d | %.2f | %,d | %,d | %,d | %.2f |%n", peers, idle.gets(), idle.dollars(),
                    busy.gets(), busy.puts(), busy.lists(), busy.dollars());
        }
    }
}
