package io.pgwarden.recording;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgwarden.wire.BackendMessages;
import java.util.HashMap;
import java.util.Map;

/**
 * Captures one session's events on its event loop, as cheaply as it can: the statements the
 * agent sent (with their bound parameters and the gateway's decision) and, byte for byte,
 * the messages the client was sent (after masking and the gateway's replacements). Nothing
 * is decoded: each event is appended as a frame ({@link EventFrames}) to the session's
 * batch, which goes to the {@link Recorder}'s writer whole at each ReadyForQuery (or sooner
 * when it grows large); the writer only compresses, chains and stores it.
 *
 * <p>Of each result, the first {@code recording.max_rows_per_result} rows are kept; the rest
 * are not even looked at (the relay forwards them undecoded) and are counted from the
 * command tag when the recording is read. Not thread-safe: the session's event loop only.
 */
public final class SessionRecorder {
    /** Own kinds, apart from the backend message types (which are letters). */
    static final byte STATEMENT = 1;
    static final byte COPY_IN_DATA = 2;
    static final byte GAP = 3;
    static final byte END = 4;
    static final byte START = 5;
    static final byte HELD = 6;

    static final byte COPY_IN_RESPONSE = 'G';
    static final byte COPY_OUT_RESPONSE = 'H';
    static final byte COPY_DATA = 'd';
    static final byte COPY_DONE = 'c';
    static final byte COPY_FAIL = 'f';

    /** A row larger than this is not kept (it is counted as not recorded); PostgreSQL allows 1 GiB. */
    static final int MAX_RECORDED_MESSAGE = 1 << 20;
    /** A batch this large goes to the writer before the next ReadyForQuery (a long result, a long COPY). */
    private static final int HAND_OFF_BYTES = 256 << 10;

    private final Recorder recorder;
    final SessionFacts facts;
    private final long startNanos;
    private final int maxRows;
    private final boolean keepParameters;
    private EventFrames batch = new EventFrames(512);
    private int batchEvents;
    private int batchStatements;
    /** Rows of the current result seen so far (kept or not). */
    private int rowsInResult;
    /** Binds not yet executed, by portal: their parameters go with the Execute's statement event. */
    private final Map<String, byte[]> binds = new HashMap<>(4);
    private long copyInMessages;
    private long copyInBytes;
    /** Events dropped since the last batch the writer took. */
    private long dropped;
    private boolean dropReported;
    /** The batch starts with a gap frame telling of {@link #dropped} events. */
    private boolean gapInBatch;
    private String endReason;
    private long endMicros;

    SessionRecorder(Recorder recorder, SessionFacts facts, int maxRows, boolean keepParameters) {
        this.recorder = recorder;
        this.facts = facts;
        this.startNanos = System.nanoTime();
        this.maxRows = maxRows;
        this.keepParameters = keepParameters;
    }

    public String sessionId() {
        return facts.id();
    }

    private long now() {
        return (System.nanoTime() - startNanos) / 1_000;
    }

    /** Whether the relay must hand this upstream message over whole, so that it can be recorded as sent. */
    public boolean wants(byte type, int length) {
        return switch (type) {
            case BackendMessages.ROW_DESCRIPTION, BackendMessages.NOTICE_RESPONSE, BackendMessages.EMPTY_QUERY_RESPONSE,
                 COPY_IN_RESPONSE, COPY_OUT_RESPONSE -> true;
            case BackendMessages.DATA_ROW, COPY_DATA -> rowsInResult < maxRows && length < MAX_RECORDED_MESSAGE;
            default -> false;
        };
    }

    /**
     * A message the client is sent, as it is sent. The relay calls this for every message it
     * sees whole (those it {@link #wants} and those the session needs anyway: CommandComplete,
     * ErrorResponse, ReadyForQuery); others pass unrecorded.
     */
    public void sent(byte type, ByteBuf message) {
        switch (type) {
            case BackendMessages.DATA_ROW, COPY_DATA -> {
                if (rowsInResult++ >= maxRows) {
                    return;
                }
            }
            case BackendMessages.ROW_DESCRIPTION, COPY_OUT_RESPONSE -> rowsInResult = 0;
            case BackendMessages.COMMAND_COMPLETE -> rowsInResult = 0;
            case BackendMessages.ERROR_RESPONSE, BackendMessages.NOTICE_RESPONSE, BackendMessages.READY_FOR_QUERY,
                 BackendMessages.EMPTY_QUERY_RESPONSE, BackendMessages.PORTAL_SUSPENDED, COPY_IN_RESPONSE -> {
            }
            default -> {
                return;
            }
        }
        add(type, message, null, null, 0, 0);
        if (type == BackendMessages.READY_FOR_QUERY || batch.size() >= HAND_OFF_BYTES) {
            handOff();
        }
    }

    /** An error or notice the gateway itself sends (not through the relay): a FATAL at the session's end, a hold's notice. */
    public void gatewaySent(ByteBuf message) {
        add(message.getByte(message.readerIndex()), message, null, null, 0, 0);
    }

    /** A Bind: its parameters are recorded with the Execute of its portal. */
    public void bind(String portal, ByteBuf frame) {
        if (keepParameters) {
            if (binds.size() >= 64) {
                binds.clear(); // portals bound and never executed: keep memory bounded
            }
            binds.put(portal, ByteBufUtil.getBytes(frame));
        }
    }

    /**
     * A statement as decided, before it is forwarded (or its refusal is).
     *
     * @param text     the text as the audit trail stores it
     * @param decision ALLOW, DENY, …
     * @param reason   why it was refused, or how its hold ended; null otherwise
     * @param portal   the portal an Execute runs; null for a simple Query or a Parse
     */
    public void statement(String text, String decision, String reason, String portal) {
        byte[] parameters = portal == null ? null : binds.remove(portal);
        add(STATEMENT, parameters == null ? null : Unpooled.wrappedBuffer(parameters), text,
                reason == null ? decision : decision + "\n" + reason, portal == null ? 0 : 1, 0);
        batchStatements++;
    }

    /** A statement is held for approval (its decision is recorded with the statement when the hold ends). */
    public void held(String text, String requestId) {
        add(HELD, null, text, requestId, 0, 0);
    }

    /** A message of a COPY FROM STDIN from the client: counted, summed up at its CopyDone or CopyFail. */
    public void fromClient(byte type, int length) {
        switch (type) {
            case COPY_DATA -> {
                copyInMessages++;
                copyInBytes += length;
            }
            case COPY_DONE, COPY_FAIL -> {
                add(COPY_IN_DATA, null, null, type == COPY_FAIL ? "failed" : "done", copyInMessages, copyInBytes);
                copyInMessages = 0;
                copyInBytes = 0;
            }
            default -> {
            }
        }
    }

    /** The session ended: what is left goes to the writer with the end. */
    public void ended(String reason) {
        if (endReason != null) {
            return;
        }
        endMicros = now();
        add(END, null, reason, null, 0, 0);
        endReason = reason;
        binds.clear();
        handOff();
    }

    private void add(byte kind, ByteBuf bytes, String text, String detail, long count, long size) {
        if (endReason != null) {
            return; // a message relayed while the session was being closed
        }
        batch.add(kind, now(), bytes, text, detail, count, size);
        batchEvents++;
    }

    private void handOff() {
        if (batchEvents == 0) {
            return;
        }
        int events = batchEvents + (gapInBatch ? 1 : 0);
        if (recorder.accept(new Recorder.Batch(facts, batch, events, batchStatements, gapInBatch ? dropped : 0, endReason, endMicros))) {
            dropped = 0;
        } else {
            dropped += batchEvents - (endReason != null ? 1 : 0); // the end itself is kept, below
            if (endReason != null) {
                // The end is recorded whatever the buffer holds: a recording must say whether it is complete.
                EventFrames end = new EventFrames(128 + endReason.length() * 3);
                end.add(GAP, endMicros, null, null, null, dropped, 0);
                end.add(END, endMicros, null, endReason, null, 0, 0);
                recorder.acceptAnyway(new Recorder.Batch(facts, end, 2, 0, dropped, endReason, endMicros));
            }
            if (!dropReported) {
                dropReported = true;
                recorder.reportDrop(facts.id());
            }
        }
        batch = new EventFrames(Math.min(Math.max(512, batch.size()), HAND_OFF_BYTES));
        batchEvents = 0;
        batchStatements = 0;
        gapInBatch = dropped > 0;
        if (gapInBatch) {
            // The writer learns of the gap before the events after it.
            batch.add(GAP, now(), null, null, null, dropped, 0);
        }
    }
}
