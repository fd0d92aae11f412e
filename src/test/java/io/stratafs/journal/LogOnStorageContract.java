package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.ForwardingStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import io.stratafs.sync.Envelope;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Publishing a site's log and reading it as a peer, over every kind of store (memory, directory, S3). */
abstract class LogOnStorageContract {
    protected abstract ObjectStore newStore() throws Exception;

    ObjectStore store;
    final RandomEnvelopes random = new RandomEnvelopes(42);
    final List<Envelope> log = random.run("A", 1, 20);

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void close() {
        store.close();
    }

    LogPublisher publisher() {
        return new LogPublisher(store, "A", () -> 1_764_000_000_000L);
    }

    /** Publishes {@code log} as segments ending at each of {@code ends}. */
    void publish(int... ends) throws Exception {
        LogPublisher p = publisher();
        int from = (int) p.recover();
        for (int end : ends) {
            p.publish(log.subList(from, end));
            from = end;
        }
    }

    @Test
    void aPeerReadsThePublishedLogInOrderFromAnyCursor() throws Exception {
        publish(3, 4, 9, 15);
        RandomEnvelopes.assertSame(log.subList(0, 15), new PeerLogReader(store, "A", 100).read(0).envelopes());
        PeerLogReader.Batch fromMiddle = new PeerLogReader(store, "A", 100).read(6);
        RandomEnvelopes.assertSame(log.subList(6, 15), fromMiddle.envelopes());
        assertEquals(new SiteHead(15, 10, log.get(14).op().id().hlc(), 1_764_000_000_000L), fromMiddle.head());
        assertFalse(fromMiddle.more());
        assertEquals(List.of(), new PeerLogReader(store, "A", 100).read(15).envelopes());
    }

    @Test
    void aReaderFollowsAGrowingLogAndGoesBackWhenTheCursorDoes() throws Exception {
        LogPublisher p = publisher();
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        p.publish(log.subList(0, 2));
        long cursor = 0;
        for (int end : new int[] {2, 5, 6, 11}) {
            if (end > 2) {
                p.publish(log.subList((int) cursor, end));
            }
            List<Envelope> got = reader.read(cursor).envelopes();
            RandomEnvelopes.assertSame(log.subList((int) cursor, end), got);
            cursor = end;
        }
        assertEquals(List.of(), reader.read(cursor).envelopes());
        RandomEnvelopes.assertSame(log.subList(3, 11), reader.read(3).envelopes());
    }

    @Test
    void aBoundedReadSaysMoreRemains() throws Exception {
        publish(2, 4, 6, 8, 10);
        PeerLogReader reader = new PeerLogReader(store, "A", 2);
        PeerLogReader.Batch first = reader.read(0);
        RandomEnvelopes.assertSame(log.subList(0, 4), first.envelopes());
        assertTrue(first.more());
        PeerLogReader.Batch second = reader.read(4);
        RandomEnvelopes.assertSame(log.subList(4, 8), second.envelopes());
        PeerLogReader.Batch last = reader.read(8);
        RandomEnvelopes.assertSame(log.subList(8, 10), last.envelopes());
        assertFalse(last.more());
    }

    @Test
    void aMissingHeadFallsBackToListing() throws Exception {
        publish(3, 7, 12);
        store.delete(ObjectKeys.siteHead("A"));
        PeerLogReader.Batch all = new PeerLogReader(store, "A", 100).read(0);
        assertNull(all.head());
        RandomEnvelopes.assertSame(log.subList(0, 12), all.envelopes());
        RandomEnvelopes.assertSame(log.subList(5, 12), new PeerLogReader(store, "A", 100).read(5).envelopes());
        RandomEnvelopes.assertSame(log.subList(7, 12), new PeerLogReader(store, "A", 100).read(7).envelopes());
    }

    @Test
    void aRetriedUploadIsAcceptedAndAHeadLeftBehindByACrashIsRepaired() throws Exception {
        publish(3);
        LogPublisher retrying = publisher();
        assertEquals(3, retrying.recover());
        // the previous incarnation created the segment and died before writing the head
        store.create(LogSegments.key(log.subList(3, 6)), LogSegments.encode(log.subList(3, 6)));
        assertEquals(ObjectKeys.opLogSegment("A", 4, 6), retrying.publish(log.subList(3, 6)));
        assertEquals(6, SiteHead.read(store, "A").lastSeq());

        store.create(LogSegments.key(log.subList(6, 8)), LogSegments.encode(log.subList(6, 8)));
        LogPublisher restarted = publisher();
        assertEquals(8, restarted.recover());
        assertEquals(new SiteHead(8, 7, log.get(7).op().id().hlc(), 1_764_000_000_000L), SiteHead.read(store, "A"));
        assertNull(restarted.publish(log.subList(0, 8)), "everything offered again is already there");
        assertEquals(ObjectKeys.opLogSegment("A", 9, 10), restarted.publish(log.subList(5, 10)));
        RandomEnvelopes.assertSame(log.subList(0, 10), new PeerLogReader(store, "A", 100).read(0).envelopes());
    }

    @Test
    void anotherWritersSegmentIsNeverOverwrittenAndStopsThePublisher() throws Exception {
        publish(3);
        LogPublisher unaware = publisher();
        assertEquals(3, unaware.recover());
        // another process publishing as A got there first and has not written its head yet
        List<Envelope> impostor = new RandomEnvelopes(99).run("A", 4, 3);
        String key = LogSegments.key(impostor);
        store.create(key, LogSegments.encode(impostor));
        SiteNameTakenException e = assertThrows(SiteNameTakenException.class, () -> unaware.publish(log.subList(3, 6)));
        assertTrue(e.getMessage().contains("another writer publishes as site \"A\" in " + store.describe() + ": " + key
                + " already holds other operations. Nothing was overwritten"), e.getMessage());
        assertArrayEquals(LogSegments.encode(impostor), store.get(key));
        assertSame(e, assertThrows(SiteNameTakenException.class, () -> unaware.publish(log.subList(3, 8))));
        assertEquals(List.of(key), store.listAfter(ObjectKeys.opLogPrefix("A"), ObjectKeys.opLogSegment("A", 3, -1L)));
        assertEquals(3, SiteHead.read(store, "A").lastSeq());
    }

    @Test
    void aSiteWhoseStateIsOlderThanItsPublishedLogCannotReuseSequenceNumbers() throws Exception {
        publish(3, 6);
        LogPublisher restored = publisher();
        List<Envelope> otherHistory = new RandomEnvelopes(77).run("A", 4, 4);
        SiteNameTakenException e = assertThrows(SiteNameTakenException.class, () -> restored.publish(otherHistory));
        assertTrue(e.getMessage().contains("record 4 there is not the operation this site offers again"), e.getMessage());
        RandomEnvelopes.assertSame(log.subList(0, 6), new PeerLogReader(store, "A", 100).read(0).envelopes());
        assertEquals(6, SiteHead.read(store, "A").lastSeq());
    }

    @Test
    void aLogThatLostWhatThisSiteAppliedStopsThePeerInsteadOfBeingReadAgain() throws Exception {
        publish(3, 6);
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        assertEquals(6, reader.read(0).envelopes().size());
        // storage restored from a copy taken after record 3
        store.delete(ObjectKeys.opLogSegment("A", 4, 6));
        new SiteHead(3, 1, 0, 0).write(store, "A");
        LogIntegrityException e = assertThrows(LogIntegrityException.class, () -> reader.read(6));
        assertEquals("site A's log in " + store.describe() + " goes only to 3, but this site has applied it up to 6: that"
                + " storage lost part of the log (emptied, or restored from an older copy?); nothing more is read from it"
                + " until it holds the log again", e.getMessage());
        // emptied altogether
        store.delete(ObjectKeys.opLogSegment("A", 1, 3));
        store.delete(ObjectKeys.siteHead("A"));
        assertTrue(assertThrows(LogIntegrityException.class, () -> reader.read(6)).getMessage().contains("goes only to 0"));
    }

    @Test
    void aHeadBehindTheCursorButSegmentsBeyondItIsOnlyAStaleHint() throws Exception {
        publish(3, 6);
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        reader.read(0);
        List<Envelope> more = log.subList(6, 9);
        store.create(LogSegments.key(more), LogSegments.encode(more));
        new SiteHead(3, 1, 0, 0).write(store, "A");
        RandomEnvelopes.assertSame(more, reader.read(6).envelopes());
    }

    @Test
    void anAttemptWhoseAnswerWasLostIsRecognisedAsThisSitesOwn() throws Exception {
        boolean[] loseNextHeadAnswer = {true};
        ObjectStore lossy = new ForwardingStore(store) {
            @Override
            public void put(String key, byte[] data) throws StoreException {
                super.put(key, data);
                if (loseNextHeadAnswer[0]) {
                    loseNextHeadAnswer[0] = false;
                    throw new StoreUnavailableException("the answer to PUT " + key + " was lost", null);
                }
            }
        };
        LogPublisher p = new LogPublisher(lossy, "A", () -> 1_764_000_000_000L);
        assertThrows(StoreUnavailableException.class, () -> p.publish(log.subList(0, 3)));
        assertEquals(0, p.published());
        assertNull(p.publish(log.subList(0, 3)), "the target has the batch already");
        assertEquals(3, p.published());
        assertEquals(ObjectKeys.opLogSegment("A", 4, 5), p.publish(log.subList(3, 5)));
        RandomEnvelopes.assertSame(log.subList(0, 5), new PeerLogReader(store, "A", 100).read(0).envelopes());
    }

    @Test
    void aHeadBeyondWhatThisPublisherWroteMeansAnotherWriter() throws Exception {
        LogPublisher mine = publisher();
        mine.recover();
        publish(4);
        SiteNameTakenException e = assertThrows(SiteNameTakenException.class, () -> mine.publish(log.subList(0, 2)));
        assertTrue(e.getMessage().contains("head/A says the log goes to 4, beyond the 0 this site published"), e.getMessage());
    }

    @Test
    void aBatchThatWouldLeaveAGapOrIsAnotherSitesIsRefused() throws Exception {
        publish(3);
        LogPublisher p = publisher();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p.publish(log.subList(4, 6))).getMessage()
                .endsWith("ends at 3, so a batch starting at 5 would leave a gap"));
        List<Envelope> other = new RandomEnvelopes(5).run("B", 4, 1);
        assertEquals("site A cannot publish site B's envelopes",
                assertThrows(IllegalArgumentException.class, () -> p.publish(other)).getMessage());
    }

    @Test
    void aGapBetweenSegmentsIsAnErrorNamingTheNextObjectAfterWhatPrecedesIt() throws Exception {
        publish(3);
        List<Envelope> later = log.subList(5, 8);
        store.create(LogSegments.key(later), LogSegments.encode(later));
        new SiteHead(8, 6, 0, 0).write(store, "A");
        String expected = "records 4..5 of site A's log are missing from " + store.describe()
                + " (the next segment there is oplog/A/0000000000000006-0000000000000008)";
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        PeerLogReader.Batch before = reader.read(0);
        RandomEnvelopes.assertSame(log.subList(0, 3), before.envelopes());
        assertTrue(before.more());
        assertEquals(expected, assertThrows(LogIntegrityException.class, () -> reader.read(3)).getMessage());
        assertEquals(expected, assertThrows(LogIntegrityException.class, () -> new PeerLogReader(store, "A", 100).read(3)).getMessage());
    }

    @Test
    void aCorruptSegmentIsAnErrorNamingIt() throws Exception {
        publish(3, 6);
        String key = ObjectKeys.opLogSegment("A", 4, 6);
        byte[] bytes = store.get(key);
        bytes[bytes.length - 3] ^= 1;
        store.delete(key);
        store.create(key, bytes);
        PeerLogReader reader = new PeerLogReader(store, "A", 100);
        LogIntegrityException e = assertThrows(LogIntegrityException.class, () -> reader.read(3));
        assertTrue(e.getMessage().contains("record 6 of log segment " + key + " is corrupt (CRC32C mismatch"), e.getMessage());
    }

    @Test
    void overlappingSegmentsAreAnError() throws Exception {
        publish(3);
        store.create(ObjectKeys.opLogSegment("A", 1, 4), LogSegments.encode(log.subList(0, 4)));
        store.delete(ObjectKeys.siteHead("A"));
        LogIntegrityException e = assertThrows(LogIntegrityException.class, () -> new PeerLogReader(store, "A", 100).read(0));
        assertTrue(e.getMessage().contains("has overlapping segments"), e.getMessage());
    }

    @Test
    void keysThatAreNotSegmentNamesAreSkippedByListings() throws Exception {
        publish(3);
        // S3Proxy's file backend shows an upload in progress as <key>-<uuid>
        store.put(ObjectKeys.opLogSegment("A", 4, 6) + "-f7a20596", new byte[] {1});
        store.delete(ObjectKeys.siteHead("A"));
        assertEquals(3, publisher().recover());
        RandomEnvelopes.assertSame(log.subList(0, 3), new PeerLogReader(store, "A", 100).read(0).envelopes());
        publish(5);
        RandomEnvelopes.assertSame(log.subList(3, 5), new PeerLogReader(store, "A", 100).read(3).envelopes());
    }

    @Test
    void listAfterReturnsOnlyLaterKeysOfThePrefix() throws Exception {
        for (String k : new String[] {"journal/A/1", "journal/A/2", "journal/A/3", "journal/AB/4", "journal/B/1"}) {
            store.put(k, new byte[] {1});
        }
        assertEquals(List.of("journal/A/2", "journal/A/3"), store.listAfter("journal/A/", "journal/A/1"));
        assertEquals(List.of("journal/A/1", "journal/A/2", "journal/A/3"), store.listAfter("journal/A/", "journal/A/0"));
        assertEquals(List.of(), store.listAfter("journal/A/", "journal/A/3"));
    }
}
