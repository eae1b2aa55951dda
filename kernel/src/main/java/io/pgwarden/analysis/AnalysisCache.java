package io.pgwarden.analysis;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Analyses by exact statement text, bounded in entries and in size, safe for any number of
 * threads. A hit costs a hash lookup and, the first time an entry is used after a sweep, one
 * volatile write; no lock. Eviction is CLOCK-like ("second chance"): a sweep, run by one
 * thread at a time when a bound is exceeded, drops entries not used since the previous sweep.
 *
 * <p>The key is the text exactly as received: two texts that differ in any byte are parsed
 * separately. A key that strips literals or whitespace would have to be exactly as strict as
 * PostgreSQL's lexer (dollar quotes, E'' and U&'' strings, nested comments), or one
 * statement's analysis could be served for another (DESIGN §3).
 */
final class AnalysisCache {
    /** Per entry, beside its text: the analysis records and the map's own nodes (estimated). */
    private static final long ENTRY_OVERHEAD = 512;

    private static final class Entry {
        final Object value;
        final long weight;
        volatile boolean used;

        Entry(Object value, long weight) {
            this.value = value;
            this.weight = weight;
        }
    }

    private final ConcurrentHashMap<String, Entry> map = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final long maxWeight;
    private final int maxKeyLength;
    private final AtomicLong weight = new AtomicLong();
    private final ReentrantLock sweeping = new ReentrantLock();

    /**
     * @param maxEntries at most this many texts (0 disables the cache)
     * @param maxWeight at most about this many bytes: texts (twice: the key and the statement
     *     slices in the value) plus an estimate per entry
     * @param maxKeyLength longer texts are not cached (bulk statements rarely repeat)
     */
    AnalysisCache(int maxEntries, long maxWeight, int maxKeyLength) {
        this.maxEntries = maxEntries;
        this.maxWeight = maxWeight;
        this.maxKeyLength = maxKeyLength;
    }

    /** The cached value (a result or an AnalysisException), or null. */
    Object get(String text) {
        Entry entry = map.get(text);
        if (entry == null) {
            return null;
        }
        if (!entry.used) {
            entry.used = true;
        }
        return entry.value;
    }

    void put(String text, Object value) {
        if (maxEntries == 0 || text.length() > maxKeyLength) {
            return;
        }
        Entry entry = new Entry(value, 4L * text.length() + ENTRY_OVERHEAD);
        Entry previous = map.put(text, entry);
        weight.addAndGet(entry.weight - (previous == null ? 0 : previous.weight));
        if ((map.size() > maxEntries || weight.get() > maxWeight) && sweeping.tryLock()) {
            try {
                sweep();
            } finally {
                sweeping.unlock();
            }
        }
    }

    /** Down to 7/8 of both bounds, so that a full cache is not swept on every insert. */
    private void sweep() {
        long entryTarget = maxEntries - maxEntries / 8;
        long weightTarget = maxWeight - maxWeight / 8;
        for (int pass = 0; pass < 3 && (map.size() > entryTarget || weight.get() > weightTarget); pass++) {
            for (Iterator<Map.Entry<String, Entry>> it = map.entrySet().iterator(); it.hasNext()
                    && (map.size() > entryTarget || weight.get() > weightTarget);) {
                Map.Entry<String, Entry> e = it.next();
                Entry entry = e.getValue();
                if (entry.used && pass < 2) {
                    entry.used = false;
                } else if (map.remove(e.getKey(), entry)) { // not an entry that a put has just replaced
                    weight.addAndGet(-entry.weight);
                }
            }
        }
    }

    int size() {
        return map.size();
    }

    long weight() {
        return weight.get();
    }
}
