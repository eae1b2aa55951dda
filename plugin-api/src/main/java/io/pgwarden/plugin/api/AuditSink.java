package io.pgwarden.plugin.api;

import java.util.List;

/**
 * One configured audit sink instance, made by its {@link AuditSinkFactory}. The gateway
 * feeds it from its audit store (an outbox): each sink has its own persisted position, and
 * one delivery thread per sink calls {@link #deliver} with the next complete events in the
 * order they were completed.
 *
 * <p>Delivery is <b>at least once</b>. The position advances only after {@code deliver}
 * returned normally; after an exception the same batch (the same events, in the same order)
 * is offered again with exponential backoff, for as long as it takes. After a gateway crash
 * the last batch that was not acknowledged may be offered again, possibly with more events
 * after it. Each event's {@link AuditEvent#eventId()} is stable across every redelivery:
 * receivers that must not count an event twice deduplicate on it.
 *
 * <p>{@code deliver} is called on a virtual thread of its own, one call at a time per
 * instance, so it may block (file I/O, a network round trip); give network calls a timeout.
 */
public interface AuditSink extends AutoCloseable {

    /**
     * Delivers a batch of at most {@link #maxBatchSize()} events. Return normally only when
     * every event in it is durably accepted (written and synced, acknowledged by the receiver).
     *
     * @throws Exception any failure; the gateway logs it (never the events) and retries
     */
    void deliver(List<AuditEvent> batch) throws Exception;

    /** The largest batch {@link #deliver} accepts; the gateway's default is 500. */
    default int maxBatchSize() {
        return 500;
    }

    /** Releases what the instance holds (files, connections); called once at gateway shutdown. */
    @Override
    default void close() {
    }
}
