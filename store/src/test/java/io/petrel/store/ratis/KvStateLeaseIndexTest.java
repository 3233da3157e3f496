package io.petrel.store.ratis;

import io.petrel.store.Expect;
import io.petrel.store.Op;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which keys a lease holds is kept on disk, not in the zone's heap (activation records hold a
 * retention lease each, and the heap grew with every one until it ran out): a lease's revocation or
 * expiry deletes exactly the keys it still holds, after a restart too, including keys that changed
 * lease or were deleted before and keys written in the same entry; and a state written before the
 * index existed is indexed when it is opened.
 */
class KvStateLeaseIndexTest {
    private long index;

    @Test
    void aLeaseDeletesExactlyTheKeysItStillHoldsAcrossRestarts(@TempDir Path dir) throws Exception {
        try (KvState s = KvState.open(dir, false)) {
            apply(s, WriteCmd.grantLease(60_000), WriteCmd.grantLease(60_000), WriteCmd.grantLease(1_000));
            for (int i = 0; i < 300; i++) {
                apply(s, put("k/" + i, 1));
            }
            for (int i = 0; i < 100; i++) {
                apply(s, put("k/" + i, 2)); // moved to lease 2
            }
            for (int i = 100; i < 150; i++) {
                apply(s, WriteCmd.commit(List.of(new Op.Delete("k/" + i, Expect.any()))));
            }
            for (int i = 150; i < 200; i++) {
                apply(s, put("k/" + i, 0)); // no lease any more
            }
            apply(s, put("short/a", 3), put("short/b", 3));
        }
        try (KvState s = KvState.open(dir, false)) {
            apply(s, WriteCmd.revokeLease(1));
            for (int i = 0; i < 300; i++) {
                String expected = i < 100 ? "lease 2" : i < 150 ? "deleted" : i < 200 ? "unleased" : "revoked with lease 1";
                assertThat(s.get("k/" + i).isPresent()).as("k/%d (%s)", i, expected).isEqualTo(i < 100 || (i >= 150 && i < 200));
            }
            // Written and revoked in one entry: the lease's keys on disk and the one just written go together.
            apply(s, put("k/late", 2), WriteCmd.revokeLease(2));
            assertThat(s.get("k/late")).isEmpty();
            for (int i = 0; i < 100; i++) {
                assertThat(s.get("k/" + i)).as("k/%d, on revoked lease 2", i).isEmpty();
            }
            // Lease 3 (1 s) runs out when the replicated clock passes it.
            assertThat(s.get("short/a")).isPresent();
            index++;
            s.apply(1, index, 1_000_000 + 60_000, List.of(WriteCmd.tick()));
            assertThat(s.get("short/a")).isEmpty();
            assertThat(s.get("short/b")).isEmpty();
            assertThat(s.get("k/150")).as("an unleased key stays").isPresent();
        }
    }

    @Test
    void aStateWrittenBeforeTheIndexIsIndexedWhenOpened(@TempDir Path dir) throws Exception {
        try (KvState s = KvState.open(dir, false)) {
            apply(s, WriteCmd.grantLease(60_000));
            for (int i = 0; i < 25_000; i += 500) {
                List<WriteCmd> cmds = new ArrayList<>();
                for (int j = i; j < i + 500; j++) {
                    cmds.add(put("old/" + j, 1));
                }
                apply(s, cmds.toArray(WriteCmd[]::new));
            }
        }
        forgetTheIndex(dir);
        try (KvState s = KvState.open(dir, false)) {
            assertThat(s.get("old/24999")).isPresent();
            apply(s, WriteCmd.revokeLease(1));
            assertThat(s.keyCount()).as("keys left after the lease of every key was revoked").isZero();
        }
    }

    /** Makes the state look as one written before the lease index: no index family, no flag. */
    private static void forgetTheIndex(Path dir) throws Exception {
        List<byte[]> names;
        try (org.rocksdb.Options o = new org.rocksdb.Options()) {
            names = RocksDB.listColumnFamilies(o, dir.toString());
        }
        List<ColumnFamilyDescriptor> descriptors = names.stream().map(ColumnFamilyDescriptor::new).toList();
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions(); RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
            for (int i = 0; i < names.size(); i++) {
                String name = new String(names.get(i), StandardCharsets.UTF_8);
                if (name.equals("meta")) {
                    db.delete(handles.get(i), "leaseIndex".getBytes(StandardCharsets.UTF_8));
                } else if (name.equals("leasekeys")) {
                    db.dropColumnFamily(handles.get(i));
                }
            }
            handles.forEach(ColumnFamilyHandle::close);
        }
    }

    private void apply(KvState s, WriteCmd... cmds) throws Exception {
        index++;
        s.apply(1, index, 1_000_000 + index, List.of(cmds));
    }

    private static WriteCmd put(String key, long lease) {
        return WriteCmd.commit(List.of(new Op.Put(key, key.getBytes(StandardCharsets.UTF_8), Expect.any(), lease)));
    }
}
