package io.pgwarden.recording;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.pgwarden.wire.BackendMessages;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Captures one session's events on its event loop, as cheaply as it can: the statements the
 * agent sent (with their bound parameters and the gateway's decision) and, byte for byte,
 * the messages the client was sent (after masking and the gateway's replacements). Nothing
 * is decoded here; events are handed to the {@link Recorder}'s writer in batches, at each
 * ReadyForQuery (or sooner when a batch grows large), which decodes, chains and stores them.
 *
 * <p>Of each result, the first {@code recording.max_rows_per_result} rows are kept; the rest
 * are not even looked at (the relay forwards them undecoded) and are counted from the
 * command tag. Not thread-safe: the session's event loop only.
 */
public final class SessionRecorder {
    /** Own kinds, apart from the backend message types (which are letters). */
    static final byte STATEMENT = 1;
    static final byte COPY_IN_DATA = 2;
    static final byte GAP = 3;
    static final byte END = 4;
    static final byte START = 5;
    static final byte HELD = 6;

    /** A row larger than this is not kept (it is counted as not recorded); PostgreSQL allows 1 GiB. */
    static final int MAX_RECORDED_MESSAGE = 1 << 20;
    /** A batch this large goes to the writer before the next ReadyForQuery (a long result, a long COPY). */
    private static final long HAND_OFF_BYTES = 256 << 10;

    private final Recorder recorder;
    private final String sessionId;
    private final long startNanos;
    private final int maxRows;
    private final boolean keepParameters;
    private List<CapturedEvent> batch = new ArrayList<>();
    private long batchWeight;
    /** Rows of the current result seen so far (kept or not). */
    private int rowsInResult;
    /** Binds not yet executed, by portal: their parameters go with the Execute's statement event. */
    private final Map<String, byte[]> binds = new HashMap<>(4);
    private long copyInMessages;
    private long copyInBytes;
    private long dropped;
    private boolean dropReported;
    private boolean ended;
    final SessionFacts facts;

    SessionRecorder(Recorder recorder, SessionFacts facts, int maxRows, boolean keepParameters) {
        this.recorder = recorder;
        this.facts = facts;
        this.sessionId = facts.id();
        this.startNanos = System.nanoTime();
        this.maxRows = maxRows;
        this.keepParameters = keepParameters;
        add(new CapturedEvent(START, 0, null, null, null, 0, 0));
    }

    public String sessionId() {
        return sessionId;
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

    static final byte COPY_IN_RESPONSE = 'G';
    static final byte COPY_OUT_RESPONSE = 'H';
    static final byte COPY_DATA = 'd';
    static final byte COPY_DONE = 'c';
    static final byte COPY_FAIL = 'f';

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
            case BackendMessages.COMMAND_COMPLETE, BackendMessages.ERROR_RESPONSE, BackendMessages.NOTICE_RESPONSE,
                 BackendMessages.READY_FOR_QUERY, BackendMessages.EMPTY_QUERY_RESPONSE, BackendMessages.PORTAL_SUSPENDED,
                 COPY_IN_RESPONSE -> {
            }
            default -> {
                return;
            }
        }
        add(new CapturedEvent(type, now(), ByteBufUtil.getBytes(message), null, null, 0, 0));
        if (type == BackendMessages.COMMAND_COMPLETE) {
            rowsInResult = 0;
        }
        if (type == BackendMessages.READY_FOR_QUERY || batchWeight >= HAND_OFF_BYTES) {
            handOff();
        }
    }

    /** An error or notice the gateway itself sends (not through the relay): a FATAL at the session's end. */
    public void gatewaySent(ByteBuf message) {
        add(new CapturedEvent(message.getByte(message.readerIndex()), now(), ByteBufUtil.getBytes(message), null, null, 0, 0));
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
     * @param decision ALLOW, DENY, HOLD, …
     * @param reason   why it was refused or held; null otherwise
     * @param portal   the portal an Execute runs; null for a simple Query or a Parse
     */
    public void statement(String text, String decision, String reason, String portal) {
        byte[] parameters = portal == null ? null : binds.remove(portal);
        add(new CapturedEvent(STATEMENT, now(), parameters, text, decision + (reason == null ? "" : "\n" + reason),
                portal == null ? 0 : 1, 0));
    }

    /** A statement is held for approval (its decision is recorded with the statement when the hold ends). */
    public void held(String text, String requestId) {
        add(new CapturedEvent(HELD, now(), null, text, requestId, 0, 0));
    }

    /** A message of a COPY FROM STDIN from the client: counted, summed up at its CopyDone or CopyFail. */
    public void fromClient(byte type, int length) {
        switch (type) {
            case COPY_DATA -> {
                copyInMessages++;
                copyInBytes += length;
            }
            case COPY_DONE, COPY_FAIL -> {
                add(new CapturedEvent(COPY_IN_DATA, now(), null, null, type == COPY_FAIL ? "failed" : "done",
                        copyInMessages, copyInBytes));
                copyInMessages = 0;
                copyInBytes = 0;
            }
            default -> {
            }
        }
    }

    /** The session ended: what is left goes to the writer with the end. */
    public void ended(String reason) {
        if (ended) {
            return;
        }
        ended = true;
        add(new CapturedEvent(END, now(), null, reason, null, 0, 0));
        handOff();
    }

    private void add(CapturedEvent event) {
        if (ended && event.kind() != END) {
            return; // a message relayed while the session was being closed
        }
        batch.add(event);
        batchWeight += event.weight();
    }

    private void handOff() {
        if (batch.isEmpty()) {
            return;
        }
        List<CapturedEvent> events = batch;
        int captured = events.size();
        if (dropped > 0) {
            // The writer learns of the gap before the events after it.
            events.addFirst(new CapturedEvent(GAP, events.getFirst().micros(), null, null, null, dropped, 0));
        }
        if (recorder.accept(this, events, batchWeight)) {
            dropped = 0;
        } else {
            dropped += ended ? captured - 1 : captured; // the end itself is kept, below
            if (ended) {
                // The end is recorded whatever the buffer holds: a recording must say that it is complete or not.
                recorder.acceptAnyway(this, List.of(new CapturedEvent(GAP, now(), null, null, null, dropped, 0),
                        events.getLast()));
            }
            if (!dropReported) {
                dropReported = true;
                recorder.reportDrop(sessionId);
            }
        }
        batch = new ArrayList<>();
        batchWeight = 0;
    }
}
