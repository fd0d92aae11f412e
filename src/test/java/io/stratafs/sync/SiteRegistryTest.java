package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.config.VolumeRecord;
import io.stratafs.store.ForwardingStore;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import io.stratafs.store.StoreUnavailableException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The site registry and {@code format --join} over in-memory and local-directory stores, with peers made unreachable at will. */
class SiteRegistryTest {
    private static final StoreOptions LOCAL = StoreOptions.builder().build();

    /** Storages by location; a location in {@link #down} does not answer. */
    private final Map<String, ObjectStore> storages = new HashMap<>();
    private final Set<String> down = new HashSet<>();

    private final SiteRegistry.PeerStores peers = site -> {
        ObjectStore s = storages.get(site.storage());
        if (s == null || down.contains(site.storage())) {
            throw new StoreUnavailableException("cannot reach " + site.storage() + ": connection refused", null);
        }
        // the registry closes what it opens; the test's stores live on
        return List.of(new ForwardingStore(s) {
            @Override
            public void close() {
            }
        });
    };

    private ObjectStore storage(String location) {
        ObjectStore s = new ForwardingStore(new MemoryStore()) {
            @Override
            public String describe() {
                return location;
            }

            @Override
            public void check() throws StoreException {
                if (down.contains(location)) {
                    throw new StoreUnavailableException("cannot reach " + location + ": connection refused", null);
                }
            }

            @Override
            public List<String> list(String prefix) throws StoreException {
                check();
                return super.list(prefix);
            }

            @Override
            public void create(String key, byte[] data) throws StoreException {
                check();
                super.create(key, data);
            }
        };
        storages.put(location, s);
        return s;
    }

    /** {@code format STORAGE --site NAME} as the command does it. */
    private VolumeRecord format(ObjectStore s, String site) throws StoreException {
        VolumeRecord v = VolumeRecord.create("vol", 1 << 20, site);
        s.put(ObjectKeys.VOLUME, v.encode());
        SiteRegistry.create(s, SiteRecord.of(site, v.uuid(), List.of(s), LOCAL));
        return v;
    }

    private SiteJoin.Result join(String name, ObjectStore s, ObjectStore via) throws StoreException {
        return SiteJoin.join(name, List.of(s), LOCAL, List.of(via), LOCAL, peers);
    }

    private static Set<String> names(ObjectStore s) throws StoreException {
        Set<String> out = new HashSet<>();
        for (String key : s.list(ObjectKeys.SITES_PREFIX)) {
            out.add(ObjectKeys.siteName(key));
        }
        return out;
    }

    private SiteRegistry registry(VolumeRecord v, String self, ObjectStore s) {
        return new SiteRegistry(v.uuid(), self, List.of(s), peers);
    }

    @Test
    void aRecordSurvivesEncodingAndCarriesNoSecret() {
        StoreOptions reach = StoreOptions.builder().endpoint("http://user:pw@127.0.0.1:9000").region("eu-west-1").pathStyle(true)
                .checksumWhenRequired(true).profile("site-c").credentials("AKIDTEST", "very-secret").build();
        SiteRecord r = new SiteRecord("C", "uuid-1", List.of("s3://c/p", "file:///srv/c"), reach.endpoint.toString(), reach.region,
                reach.pathStyle, reach.checksumWhenRequired, reach.profile);
        String text = new String(r.encode(), StandardCharsets.UTF_8);
        assertEquals(r, SiteRecord.decode(r.encode(), "test"));
        assertFalse(text.contains("very-secret") || text.contains("AKIDTEST") || text.contains("pw"), text);
        StoreOptions back = r.options(LOCAL);
        assertEquals("site-c", back.profile);
        assertEquals("http://127.0.0.1:9000", back.endpoint.toString());
        assertTrue(back.pathStyle && back.checksumWhenRequired);
    }

    @Test
    void aSiteWithoutS3TargetsRecordsNoS3Options(@TempDir Path dir) {
        StoreOptions reach = StoreOptions.builder().endpoint("http://127.0.0.1:9000").pathStyle(true).profile("p").build();
        try (LocalDirStore local = new LocalDirStore(dir)) {
            assertEquals(new SiteRecord("A", "u", List.of("file://" + dir), null, null, false, null, null),
                    SiteRecord.of("A", "u", List.of(local), reach));
        }
    }

    @Test
    void aRecordOfANewerFormatIsRefusedByName() {
        byte[] newer = "format.version=2\nsite=A\nvolume=u\nstorage=file:///a\n".getBytes(StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SiteRecord.decode(newer, "sites/A in file:///a"));
        assertEquals("site record sites/A in file:///a has format version 2, this StrataFS reads versions 1 to 1", e.getMessage());
    }

    @Test
    void createAcceptsAnIdenticalRecordAndRefusesADifferentOne(@TempDir Path dir) throws Exception {
        try (LocalDirStore local = new LocalDirStore(dir)) {
            SiteRecord a = new SiteRecord("A", "u", List.of("file:///a"), null, null, false, null, null);
            SiteRegistry.create(local, a);
            SiteRegistry.create(local, a);
            SiteRecord other = new SiteRecord("A", "u", List.of("file:///elsewhere"), null, null, false, null, null);
            SiteClashException e = assertThrows(SiteClashException.class, () -> SiteRegistry.create(local, other));
            assertEquals(local.describe() + " already registers another site named \"A\" (storage file:///a); two sites must never share a name",
                    e.getMessage());
            assertEquals(a, SiteRecord.decode(Files.readAllBytes(dir.resolve("sites/A")), "sites/A"));
        }
    }

    @Test
    void aJoinRegistersTheNewSiteEverywhereAndGivesItTheVolume() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        ObjectStore c = storage("mem:c");
        VolumeRecord v = format(a, "A");
        join("B", b, a);
        SiteJoin.Result r = join("C", c, b);
        assertEquals(List.of("B", "A"), r.registeredAt());
        assertTrue(r.unreachable().isEmpty());
        for (ObjectStore s : List.of(a, b, c)) {
            assertEquals(Set.of("A", "B", "C"), names(s), s.describe());
        }
        VolumeRecord cv = VolumeRecord.decode(c.get(ObjectKeys.VOLUME), "c");
        assertEquals(new VolumeRecord(v.formatVersion(), v.uuid(), v.name(), v.blockSize(), "C"), cv);
    }

    @Test
    void aSiteThatWasDownDuringAJoinLearnsTheNewSiteAtItsNextRefresh() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        ObjectStore c = storage("mem:c");
        VolumeRecord v = format(a, "A");
        join("B", b, a);
        down.add("mem:a");
        SiteJoin.Result r = join("C", c, b);
        assertEquals(List.of("B"), r.registeredAt());
        assertEquals(Set.of("A"), r.unreachable().keySet());
        assertTrue(r.unreachable().get("A").contains("connection refused"), r.unreachable().toString());
        down.clear();
        assertEquals(Set.of("A", "B"), names(a));

        SiteRegistry.View view = registry(v, "A", a).refresh();
        assertEquals(Set.of("A", "B", "C"), view.sites().keySet());
        assertEquals(List.of("C"), view.copied());
        assertEquals(Set.of("A", "B", "C"), names(a));
        assertEquals(SiteRecord.decode(c.get(ObjectKeys.site("C")), "c"), SiteRecord.decode(a.get(ObjectKeys.site("C")), "a"));
        assertTrue(view.problems().isEmpty(), view.problems().toString());
        assertTrue(registry(v, "A", a).refresh().copied().isEmpty(), "a second refresh has nothing left to copy");
    }

    @Test
    void aSiteKnownOnlyToAPeerOfAPeerIsFound() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        ObjectStore c = storage("mem:c");
        ObjectStore d = storage("mem:d");
        VolumeRecord v = format(a, "A");
        join("B", b, a);
        join("C", c, b);
        down.add("mem:a");
        down.add("mem:b");
        join("D", d, c);
        down.clear();
        // A holds B and C; only C's storage knows D
        b.delete(ObjectKeys.site("D"));
        assertEquals(Set.of("A", "B", "C"), names(a));
        SiteRegistry.View view = registry(v, "A", a).refresh();
        assertEquals(Set.of("A", "B", "C", "D"), view.sites().keySet());
        assertEquals(Set.of("A", "B", "C", "D"), names(a));
    }

    @Test
    void anUnreachablePeerIsReportedAndTheOthersStillCount() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        ObjectStore c = storage("mem:c");
        VolumeRecord v = format(a, "A");
        join("B", b, a);
        down.add("mem:a");
        join("C", c, b);
        down.clear();
        down.add("mem:c");
        SiteRegistry.View view = registry(v, "A", a).refresh();
        assertEquals(Set.of("C"), view.unreachable().keySet());
        assertEquals(Set.of("A", "B", "C"), view.sites().keySet(), "C is known through B even while C itself does not answer");
        assertEquals(Set.of("A", "B", "C"), names(a));
    }

    @Test
    void twoSitesUnderOneNameAreReportedAndNeitherReplacesTheOther() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        ObjectStore c = storage("mem:c");
        VolumeRecord v = format(a, "A");
        join("B", b, a);
        // a second "B" written behind the registry's back into C's storage
        join("C", c, a);
        c.delete(ObjectKeys.site("B"));
        SiteRecord impostor = new SiteRecord("B", v.uuid(), List.of("mem:elsewhere"), null, null, false, null, null);
        SiteRegistry.create(c, impostor);
        SiteRegistry.View view = registry(v, "A", a).refresh();
        assertEquals(1, view.problems().size(), view.problems().toString());
        assertTrue(view.problems().get(0).startsWith("two different sites are named B: storage mem:b"), view.problems().get(0));
        assertEquals("mem:b", SiteRecord.decode(a.get(ObjectKeys.site("B")), "a").storage());
        assertEquals("mem:elsewhere", SiteRecord.decode(c.get(ObjectKeys.site("B")), "c").storage());
    }

    @Test
    void aJoinUnderATakenNameIsRefusedAndWritesNothing() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        ObjectStore b2 = storage("mem:b2");
        VolumeRecord v = format(a, "A");
        join("B", b, a);
        SiteClashException e = assertThrows(SiteClashException.class, () -> join("B", b2, a));
        assertEquals("site name B is already taken in volume " + v.uuid() + " by the site whose storage is mem:b; choose another --site",
                e.getMessage());
        assertThrows(SiteClashException.class, () -> join("A", b2, a));
        assertTrue(b2.list("").isEmpty());
        assertEquals(Set.of("A", "B"), names(a));
    }

    @Test
    void aJoinThroughStorageWithoutAVolumeIsRefused() throws Exception {
        ObjectStore empty = storage("mem:empty");
        ObjectStore b = storage("mem:b");
        StoreException e = assertThrows(StoreException.class, () -> join("B", b, empty));
        assertEquals("mem:empty holds no StrataFS volume; --join needs the storage of an existing site "
                + "(one made by stratafs format --site NAME)", e.getMessage());
        assertTrue(b.list("").isEmpty());
    }

    @Test
    void aJoinIntoStorageOfAnotherVolumeOrSiteIsRefused() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore other = storage("mem:other");
        format(a, "A");
        VolumeRecord otherVolume = format(other, "X");
        StoreException e = assertThrows(StoreException.class, () -> join("B", other, a));
        assertEquals("mem:other already holds another StrataFS volume, \"vol\" (" + otherVolume.uuid()
                + "); a joining site needs storage of its own", e.getMessage());
        StoreException self = assertThrows(StoreException.class, () -> join("B", a, a));
        assertEquals("mem:a is already the storage of site A of this volume; a joining site needs storage of its own", self.getMessage());
        assertEquals(Set.of("A"), names(a));
        assertEquals(Set.of("X"), names(other));
    }

    @Test
    void aJoinIntoStorageWithLeftoverSiteRecordsIsRefused() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        format(a, "A");
        SiteRegistry.create(b, new SiteRecord("Z", "old-volume", List.of("mem:z"), null, null, false, null, null));
        StoreException e = assertThrows(StoreException.class, () -> join("B", b, a));
        assertEquals("mem:b holds site records (sites/Z) but no volume record; remove them, or use other storage", e.getMessage());
        assertEquals(List.of("sites/Z"), b.list(""));
        assertEquals(Set.of("A"), names(a));
    }

    @Test
    void knownReadsOnlyThisSitesStorage() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        ObjectStore c = storage("mem:c");
        VolumeRecord v = format(a, "A");
        join("B", b, a);
        down.add("mem:a");
        join("C", c, b);
        down.clear();
        down.add("mem:b");
        SiteRegistry.View view = registry(v, "A", a).known();
        assertEquals(Set.of("A", "B"), view.sites().keySet());
        assertTrue(view.unreachable().isEmpty(), "no peer was asked: " + view.unreachable());
        assertEquals(Set.of("A", "B"), names(a));
    }

    @Test
    void aJoinThatCouldNotRegisterAtItsPeerFinishesWhenRunAgain() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        format(a, "A");
        ObjectStore refusing = new ForwardingStore(a) {
            @Override
            public void create(String key, byte[] data) throws StoreException {
                throw new StoreUnavailableException("cannot write " + key + " to mem:a: disk full", null);
            }
        };
        StoreException e = assertThrows(StoreException.class, () -> join("B", b, refusing));
        assertTrue(e.getMessage().startsWith("site B is formatted, but site A could not register it ("), e.getMessage());
        assertTrue(e.getMessage().endsWith("run the same command again to finish the join"), e.getMessage());
        assertEquals(Set.of("A"), names(a));
        SiteJoin.Result r = join("B", b, a);
        assertEquals(List.of("A"), r.registeredAt());
        assertEquals(Set.of("A", "B"), names(a));
    }

    @Test
    void aVolumeFormattedBeforeSiteRecordsGetsOneForItsSiteWhenJoined() throws Exception {
        ObjectStore a = storage("mem:a");
        ObjectStore b = storage("mem:b");
        VolumeRecord v = VolumeRecord.create("vol", 1 << 20, "main");
        a.put(ObjectKeys.VOLUME, v.encode());
        join("B", b, a);
        assertEquals(Set.of("main", "B"), names(a));
        assertEquals(Set.of("main", "B"), names(b));
        assertEquals("mem:a", SiteRecord.decode(b.get(ObjectKeys.site("main")), "b").storage());
    }
}
