package io.petrel.backup;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where things are in a backup target:
 * <pre>
 *   files/&lt;sha256&gt;.&lt;encoding&gt;                   snapshot files, by content (shared by every snapshot)
 *   clusters/&lt;id&gt;/snapshots/&lt;index&gt;.json         a snapshot's manifest
 *   clusters/&lt;id&gt;/pending/&lt;index&gt;.json           a snapshot being written (its files are in use)
 *   clusters/&lt;id&gt;/log/&lt;first&gt;-&lt;last&gt;.seg / .json   an archive segment and its manifest
 *   clusters/&lt;id&gt;/breaks/&lt;after&gt;-&lt;resumed&gt;.json  entries lost unarchived (a gap in the restore window)
 *   clusters/&lt;id&gt;/verification.json             the last scheduled verification
 * </pre>
 * Indexes are zero-padded to 20 digits so that names sort in log order.
 */
public final class BackupLayout {
    private static final Pattern SEGMENT = Pattern.compile("clusters/([^/]+)/log/(\\d{20})-(\\d{20})\\.json");
    private static final String LEGACY = "default";

    private BackupLayout() {
    }

    /** The name a cluster's backups go under (a region made before cluster ids existed has none). */
    public static String clusterName(String clusterId) {
        return clusterId.isEmpty() ? LEGACY : clusterId;
    }

    public static String clusters() {
        return "clusters/";
    }

    public static String file(String sha256, String encodingTag) {
        return "files/" + sha256 + "." + encodingTag;
    }

    public static String snapshots(String cluster) {
        return "clusters/" + cluster + "/snapshots/";
    }

    public static String snapshot(String cluster, long index) {
        return snapshots(cluster) + pad(index) + ".json";
    }

    public static String pending(String cluster) {
        return "clusters/" + cluster + "/pending/";
    }

    public static String pending(String cluster, long index) {
        return pending(cluster) + pad(index) + ".json";
    }

    public static String log(String cluster) {
        return "clusters/" + cluster + "/log/";
    }

    public static String segment(String cluster, long first, long last) {
        return log(cluster) + pad(first) + "-" + pad(last) + ".seg";
    }

    public static String segmentManifest(String cluster, long first, long last) {
        return log(cluster) + pad(first) + "-" + pad(last) + ".json";
    }

    public static String breaks(String cluster) {
        return "clusters/" + cluster + "/breaks/";
    }

    public static String breakRecord(String cluster, long after, long resumed) {
        return breaks(cluster) + pad(after) + "-" + pad(resumed) + ".json";
    }

    public static String verification(String cluster) {
        return "clusters/" + cluster + "/verification.json";
    }

    /** The cluster of a name under {@code clusters/}, if it is one. */
    public static Optional<String> clusterOf(String name) {
        if (!name.startsWith("clusters/")) {
            return Optional.empty();
        }
        int slash = name.indexOf('/', "clusters/".length());
        return slash < 0 ? Optional.empty() : Optional.of(name.substring("clusters/".length(), slash));
    }

    /** First and last index of a segment manifest's name. */
    public static Optional<long[]> segmentRange(String name) {
        Matcher m = SEGMENT.matcher(name);
        return m.matches() ? Optional.of(new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))}) : Optional.empty();
    }

    static String pad(long index) {
        return String.format("%020d", index);
    }
}
