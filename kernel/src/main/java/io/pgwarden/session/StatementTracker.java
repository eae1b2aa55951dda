package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgwarden.masking.ResultMask;
import io.pgwarden.policy.StatementGate;
import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.policy.Verdict;
import io.pgwarden.recording.SessionRecorder;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.FrontendMessages;
import io.pgwarden.wire.InvalidTextException;
import io.pgwarden.wire.MessageReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

/**
 * Follows a session's statements from the client's message to the upstream's answer: asks
 * the {@link StatementGate} about every Query and Parse before it is forwarded, and matches
 * the upstream's CommandComplete / ErrorResponse / ReadyForQuery to the statement they
 * finish, for the audit trail.
 *
 * <p>A refused statement is not answered by the gateway directly, because answers must keep
 * the order of the requests and a refusal must have the effects a PostgreSQL error has (an
 * open transaction is aborted; in the extended protocol the rest of the batch up to Sync is
 * skipped, and work done earlier in an implicit transaction is rolled back). Instead its
 * text is replaced by a marker that cannot parse; the upstream answers it with a syntax
 * error exactly where and how it would have answered the refused statement's error, and
 * the relay puts the refusal's ErrorResponse in place of that syntax error. The marker holds
 * a random token of this session, so no statement of the client's can forge one.
 *
 * <p>Lives on the session's event loop; not thread-safe.
 */
final class StatementTracker {

    /**
     * Told of each statement when it is decided (allowed: before it is forwarded; refused:
     * before its marker is) and again when its outcome is known. A refusal of a Parse is
     * complete at once; an Execute of a refused statement is not told again.
     */
    interface Outcomes {
        /**
         * @return completes when the statement's record is durable; until then nothing more
         *         of the session may go upstream. null when there is nothing to wait for.
         */
        java.util.concurrent.CompletableFuture<?> started(TrackedStatement statement);

        void completed(TrackedStatement statement);
    }

    /** A statement sent upstream (a Query, or an Execute of a parsed statement) and what came of it. */
    static final class TrackedStatement {
        final String text;
        final Verdict verdict;
        /** A simple Query (answered up to its ReadyForQuery), not an Execute. */
        final boolean simpleQuery;
        final long startedNanos = System.nanoTime();
        String lastTag;
        long rows = -1;
        String sqlState;
        /** The upstream skipped it: an earlier message of its batch failed. */
        boolean skipped;
        long finishedNanos;
        /** Whether the Outcomes were told of it (an Execute of a refused statement is not). */
        boolean recorded;
        /** Set by the Outcomes: its record in the audit trail, for the outcome to refer to. */
        long auditSequence = -1;
        /** What its results may carry (one mask per statement of a Query). */
        ResultMask.Plan plan = ResultMask.Plan.NONE;
        /** The portal an Execute runs (its Bind's parameters are recorded with it); null for a Query or Parse. */
        String portal;
        /** Which statement of a Query the upstream is answering. */
        int answering;
        /** How the rows of the result being sent are masked; null when they pass undecoded. */
        ResultLayout layout;
        /** Why an allowed statement ran after a hold (who approved it), for the audit trail; else null. */
        String approval;

        TrackedStatement(String text, Verdict verdict, boolean simpleQuery) {
            this.text = text;
            this.verdict = verdict;
            this.simpleQuery = simpleQuery;
        }

        private void complete(String tag) {
            lastTag = tag;
            long n = MessageReader.rowCount(tag);
            if (n >= 0) {
                rows = Math.max(rows, 0) + n;
            }
        }
    }

    /**
     * A version of a statement name the upstream may hold: parsed as {@code text} by the Parse
     * numbered {@code seq}, and decided when the gate was at {@code generation}. A null text
     * stands for what may have been PREPAREd at SQL level under the name (the same namespace
     * upstream), which the gate keeps.
     */
    private record Prepared(String name, String text, Verdict verdict, long generation, long seq) {
        boolean sqlLevel() {
            return text == null;
        }
    }

    /**
     * A Parse ('P'), Bind ('B') or Close ('C' of kind 'S' or 'P') sent upstream, numbered
     * {@code seq}, sent before sync point number {@code batch}: until its batch is answered
     * without any error, the gateway does not know whether the upstream applied it (a failed
     * Parse, or any message after an error up to the Sync, is not).
     */
    private record Op(char kind, byte target, String name, long seq, long batch) {
    }

    /** Statement versions, in the union of statements and portals, beyond which Parse is refused (memory bound). */
    static final int MAX_UNCONFIRMED_VERSIONS = 10_000;

    /** A refused statement's marker, and the Sync/Query after which it can no longer be answered. */
    private record Refusal(String token, long batch, ClientError error) {
    }

    /** What waits for a ReadyForQuery: the end of an extended-protocol batch. */
    private static final Object SYNC = new Object();
    /**
     * A client's Describe, answered by RowDescription or NoData (tracked only while masking
     * applies). When the Execute of the same portal follows it in the batch (libpq and pgjdbc
     * send Bind, Describe portal, Execute), its answer is also that Execute's layout: the
     * gateway then asks for none of its own.
     */
    private static final class ClientDescribe {
        final char kind;
        final String name;
        /** The Execute whose rows this Describe's answer lays out, or null. */
        TrackedStatement layoutFor;

        ClientDescribe(char kind, String name) {
            this.kind = kind;
            this.name = name;
        }
    }

    /** The last Describe of a portal sent in this batch, not yet followed by its Execute or another Bind. */
    private ClientDescribe portalDescribe;

    /** The gateway's own Describe of the portal an Execute runs: its answer is the layout of the rows, and is not forwarded. */
    private record InjectedDescribe(TrackedStatement statement) {
    }

    static final String MARKER_PREFIX = "pgwarden_refused_";

    private final StatementGate gate;
    private final Outcomes outcomes;
    private final String tokenPrefix = MARKER_PREFIX + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + "_";
    private long refusalCount;

    /** Queries, Executes and Syncs sent upstream and not yet answered, in order. */
    private final ArrayDeque<Object> inFlight = new ArrayDeque<>();
    private final ArrayDeque<Refusal> refusals = new ArrayDeque<>();
    /**
     * Every version each statement name may have upstream, oldest first. A Parse adds one; only
     * a Parse or Close known to have taken effect removes the older ones: a Parse under an
     * existing name fails upstream, and after an error the upstream skips the rest of the
     * batch, so what the client sent is not always what the upstream holds.
     */
    private final Map<String, List<Prepared>> statements = new HashMap<>();
    /** Every statement version each portal may run, with the number of the Bind that bound it. */
    private final Map<String, Map<Prepared, Long>> portals = new HashMap<>();
    private final ArrayDeque<Op> unconfirmed = new ArrayDeque<>();
    private boolean errorSinceConfirmed;
    private long seq;
    private int versions;
    /** Sync points (Query, Sync, FunctionCall) sent, and ReadyForQuery messages received. */
    private long syncPointsSent;
    private long readyReceived;
    /** The record the session must wait for before it forwards anything more, or null. */
    private java.util.concurrent.CompletableFuture<?> pendingRecord;

    /** Whether the session's policy masks anything: then Describes are followed and results inspected. */
    private final boolean masking;

    /** Records the session, when recording is on; null when not. */
    private final SessionRecorder recorder;
    /** The text a statement is recorded with: the audit trail's (literals redacted under audit.redact_literals). */
    private final UnaryOperator<String> recordedText;

    /**
     * A statement (a Query, or an Execute) that an approval rule holds (DESIGN §8): nothing of
     * it is tracked yet. The session keeps its frame, and what the client sends after it,
     * until the hold ends, then calls {@link #resume}, which decides it as if it had just arrived.
     */
    record Hold(String text, Verdict.Held verdict, boolean simpleQuery) {
    }

    private Hold pendingHold;

    /** Takes the hold the last message asked for; null when none. */
    Hold takePendingHold() {
        Hold hold = pendingHold;
        pendingHold = null;
        return hold;
    }

    /**
     * The hold ended: {@code decided} is the statement's final verdict (allowed, or refused
     * by a person, a timeout or a withdrawal). Returns what to forward in place of the held
     * {@code frame}, exactly as {@link #query} or {@link #execute} would have.
     */
    ByteBuf resume(Hold hold, ByteBuf frame, Verdict decided, String approvalNote, ByteBufAllocator alloc) {
        TrackedStatement statement = new TrackedStatement(hold.text(), decided, hold.simpleQuery());
        statement.approval = approvalNote;
        if (!hold.simpleQuery()) {
            statement.portal = MessageReader.executePortal(frame);
        }
        if (decided instanceof Verdict.Allowed allowed) {
            statement.plan = allowed.mask();
        }
        ByteBuf describe = null;
        if (!hold.simpleQuery() && statement.plan.inspects() && statement.plan.statement(0).needsRows()) {
            inFlight.add(new InjectedDescribe(statement));
            describe = FrontendMessages.describe(alloc, 'P', MessageReader.executePortal(frame));
        }
        inFlight.add(statement);
        start(statement);
        if (hold.simpleQuery()) {
            ByteBuf forward = decided instanceof Verdict.Refused r ? substitute(frame, alloc, "", r, false) : frame;
            syncPointsSent++;
            return forward;
        }
        if (decided instanceof Verdict.Refused r) {
            frame.release();
            return FrontendMessages.execute(alloc, expectRefusal(syncPointsSent, ClientError.statementRefused(r)));
        }
        return describe == null ? frame : alloc.compositeBuffer(2).addComponents(true, describe, frame);
    }

    StatementTracker(StatementGate gate, Outcomes outcomes) {
        this(gate, outcomes, null, UnaryOperator.identity());
    }

    StatementTracker(StatementGate gate, Outcomes outcomes, SessionRecorder recorder, UnaryOperator<String> recordedText) {
        this.gate = gate;
        this.outcomes = outcomes;
        this.masking = gate.masks();
        this.recorder = recorder;
        this.recordedText = recordedText;
    }

    // ---- client → upstream: each returns the frame to forward (the same, or a substitute) ----

    /** Takes the record the session must see durable before it forwards more; null when none. */
    java.util.concurrent.CompletableFuture<?> takePendingRecord() {
        var pending = pendingRecord;
        pendingRecord = null;
        return pending;
    }

    private TrackedStatement lastStarted;

    private void start(TrackedStatement statement) {
        lastStarted = statement;
        statement.recorded = true;
        if (recorder != null) {
            boolean refused = statement.verdict instanceof Verdict.Refused;
            recorder.statement(recordedText.apply(statement.text), refused ? AuditEvent.Decision.DENY : AuditEvent.Decision.ALLOW,
                    refused ? ((Verdict.Refused) statement.verdict).reason() : statement.approval, statement.portal);
        }
        var durable = outcomes.started(statement);
        if (durable != null && (!durable.isDone() || durable.isCompletedExceptionally())) {
            pendingRecord = durable;
        }
    }

    /** Text that is not UTF-8 is refused: the gateway analyses exactly what the server would run, or nothing. */
    private static final Verdict.Refused NOT_UTF8 = new Verdict.Refused(Verdict.Summary.NONE, "22021",
            "invalid byte sequence for encoding \"UTF8\"", null,
            "pgwarden reads statements as UTF-8: use client_encoding UTF8.", "statement text is not valid UTF-8");
    private static final String NOT_UTF8_TEXT = "<statement text that is not valid UTF-8>";

    ByteBuf query(ByteBuf frame, ByteBufAllocator alloc) {
        String sql;
        Verdict verdict;
        try {
            sql = MessageReader.queryText(frame);
            verdict = gate.query(sql);
        } catch (InvalidTextException e) {
            sql = NOT_UTF8_TEXT;
            verdict = NOT_UTF8;
        }
        if (verdict instanceof Verdict.Held held) {
            pendingHold = new Hold(sql, held, true);
            return frame;
        }
        TrackedStatement statement = new TrackedStatement(sql, verdict, true);
        if (verdict instanceof Verdict.Allowed allowed) {
            statement.plan = allowed.mask();
        }
        inFlight.add(statement);
        start(statement);
        ByteBuf forward = verdict instanceof Verdict.Refused r ? substitute(frame, alloc, "", r, false) : frame;
        syncPointsSent++;
        return forward;
    }

    ByteBuf parse(ByteBuf frame, ByteBufAllocator alloc) {
        MessageReader.Parse parse;
        Verdict verdict;
        try {
            parse = MessageReader.parse(frame);
            verdict = gate.parse(parse.statementName(), parse.sql());
        } catch (InvalidTextException e) {
            parse = new MessageReader.Parse(MessageReader.parseStatementName(frame), NOT_UTF8_TEXT);
            verdict = NOT_UTF8;
        }
        if (versions >= MAX_UNCONFIRMED_VERSIONS && !(verdict instanceof Verdict.Refused)) {
            verdict = new Verdict.Refused(Verdict.Summary.NONE, "54000",
                    "too many prepared statements whose state the gateway cannot confirm", null,
                    "Deallocate statements, and let a batch end without errors.", "too many unconfirmed statements");
        }
        long at = ++seq;
        statements.computeIfAbsent(parse.statementName(), k -> new ArrayList<>(1))
                .add(new Prepared(parse.statementName(), parse.sql(), verdict, gate.generation(), at));
        versions++;
        unconfirmed.add(new Op('P', (byte) 'S', parse.statementName(), at, syncPointsSent));
        if (!(verdict instanceof Verdict.Refused r)) {
            return frame;
        }
        // Nothing will run: the refusal is the whole story of this statement.
        TrackedStatement refused = new TrackedStatement(parse.sql(), verdict, false);
        start(refused);
        refused.sqlState = r.sqlState();
        finishOnly(refused);
        return substitute(frame, alloc, parse.statementName(), r, true);
    }

    /**
     * The statement last started could not be recorded, so it must not run: returns what to
     * forward instead of {@code decided} (the frame that was to go upstream for it), which is
     * a marker answered with {@code error}. A statement refused anyway keeps its refusal.
     */
    ByteBuf unrecorded(ByteBuf decided, ByteBufAllocator alloc, ClientError error) {
        if (lastStarted == null || lastStarted.verdict instanceof Verdict.Refused) {
            return decided;
        }
        lastStarted.recorded = false;
        byte type = MessageReader.type(decided);
        decided.release();
        TrackedStatement unrecorded = lastStarted;
        inFlight.removeIf(e -> e instanceof InjectedDescribe d && d.statement() == unrecorded);
        if (type == FrontendMessages.EXECUTE || type == FrontendMessages.DESCRIBE) {
            // The Execute of a portal that cannot exist fails where this one would have run.
            return FrontendMessages.execute(alloc, expectRefusal(syncPointsSent, error));
        }
        return FrontendMessages.query(alloc, expectRefusal(syncPointsSent - 1, error));
    }

    /**
     * The function-call sub-protocol calls a function by its OID, past any analysis of
     * names: it is refused, as a Query, whose answer (an error, then ReadyForQuery) is the
     * shape of a failed FunctionCall's.
     */
    ByteBuf functionCall(ByteBuf frame, ByteBufAllocator alloc) {
        Verdict.Refused refused = new Verdict.Refused(Verdict.Summary.NONE, "42501",
                "the function-call protocol message is not allowed through pgwarden", null,
                "Call the function in a statement, e.g. SELECT f(...).", "FunctionCall message");
        TrackedStatement statement = new TrackedStatement("<FunctionCall>", refused, true);
        inFlight.add(statement);
        start(statement);
        ByteBuf forward = substitute(frame, alloc, "", refused, false);
        syncPointsSent++;
        return forward;
    }

    private static final Verdict SQL_LEVEL = new Verdict.Allowed(Verdict.Summary.NONE);

    void bind(ByteBuf frame) {
        MessageReader.Bind bind = MessageReader.bindNames(frame);
        if (recorder != null) {
            recorder.bind(bind.portalName(), frame);
        }
        if (portalDescribe != null && portalDescribe.name.equals(bind.portalName())) {
            portalDescribe = null; // it describes the portal as it was before this Bind
        }
        long at = ++seq;
        Map<Prepared, Long> portal = portals.computeIfAbsent(bind.portalName(), k -> new LinkedHashMap<>());
        // A Parse of the name earlier in this batch decides: had it failed, this Bind would be skipped with it.
        long parsedNow = -1;
        for (Op op : unconfirmed) {
            if (op.kind() == 'P' && op.batch() == syncPointsSent && op.name().equals(bind.statementName())) {
                parsedNow = op.seq();
            }
        }
        for (Prepared version : statements.getOrDefault(bind.statementName(), List.of())) {
            if (parsedNow < 0 || version.seq() == parsedNow) {
                bound(portal, version, at);
            }
        }
        if (parsedNow < 0) {
            bound(portal, new Prepared(bind.statementName(), null, SQL_LEVEL, -1, -1), at);
        }
        unconfirmed.add(new Op('B', (byte) 'P', bind.portalName(), at, syncPointsSent));
    }

    private void bound(Map<Prepared, Long> portal, Prepared version, long at) {
        if (portal.remove(version) == null) {
            versions++;
        }
        portal.put(version, at);
    }

    /**
     * An Execute runs what was parsed, but PostgreSQL resolves its names again when the
     * search_path changed since (a prepared statement is re-analysed under the current path):
     * so when what the gate's decisions depend on has changed, every version the portal may
     * run is decided again (and a statement PREPAREd at SQL level under the bound name always
     * is), and a refusal replaces the Execute with one of a portal that cannot exist.
     */
    ByteBuf execute(ByteBuf frame, ByteBufAllocator alloc) {
        String portalName = MessageReader.executePortal(frame);
        Map<Prepared, Long> bound = portals.getOrDefault(portalName, Map.of());
        // A Bind of the portal earlier in this batch decides: had it failed, this Execute would be skipped with it.
        long boundNow = -1;
        for (Op op : unconfirmed) {
            if (op.kind() == 'B' && op.batch() == syncPointsSent && op.name().equals(portalName)) {
                boundNow = op.seq();
            }
        }
        if (boundNow >= 0) {
            long bindSeq = boundNow;
            Map<Prepared, Long> current = new LinkedHashMap<>();
            bound.forEach((version, at) -> {
                if (at == bindSeq) {
                    current.put(version, at);
                }
            });
            bound = current;
        }
        long latestBind = boundNow;
        boolean boundInThisBatch = boundNow >= 0;
        // Every version the portal may run must pass; a refused one never reached the upstream.
        Prepared portal = null;
        Prepared refusedVersion = null;
        Verdict.Refused again = null;
        ResultMask.Plan plan = ResultMask.Plan.NONE;
        Verdict.Held held = null;
        String heldText = null;
        for (Prepared version : bound.keySet()) {
            if (version.verdict() instanceof Verdict.Refused) {
                refusedVersion = version;
                continue;
            }
            Verdict v = version.sqlLevel() ? gate.executePrepared(version.name())
                    : version.generation() != gate.generation() ? gate.parse(version.name(), version.text()) : version.verdict();
            if (v instanceof Verdict.Refused r) {
                again = r;
                portal = version;
                break;
            }
            if (v instanceof Verdict.Held h && held == null && (!boundInThisBatch || bound.get(version) == latestBind)) {
                held = h;
                heldText = version.sqlLevel() ? "<statement " + version.name() + " prepared at SQL level>" : version.text();
            }
            if (!version.sqlLevel()) {
                portal = version;
            }
            if (v instanceof Verdict.Allowed allowed) {
                plan = ResultMask.Plan.either(plan, allowed.mask());
            }
        }
        if (portal == null) {
            portal = refusedVersion;
        }
        if (again != null) {
            String text = portal.sqlLevel() ? "<statement " + portal.name() + " prepared at SQL level>" : portal.text();
            TrackedStatement statement = new TrackedStatement(text, again, false);
            statement.portal = portalName;
            inFlight.add(statement);
            start(statement);
            frame.release();
            return FrontendMessages.execute(alloc, expectRefusal(syncPointsSent, ClientError.statementRefused(again)));
        }
        if (held != null) {
            pendingHold = new Hold(heldText, held, false);
            return frame;
        }
        // An unknown portal gets its error from the upstream; the audit still sees the attempt.
        TrackedStatement statement = portal != null ? new TrackedStatement(portal.text(), portal.verdict(), false)
                : new TrackedStatement("<unknown portal>", new Verdict.Allowed(Verdict.Summary.NONE), false);
        statement.plan = plan;
        statement.portal = portalName;
        ByteBuf forward = frame;
        ClientDescribe described = portalDescribe;
        portalDescribe = null;
        if (plan.inspects() && plan.statement(0).needsRows()) {
            if (described != null && described.name.equals(portalName) && described.layoutFor == null
                    && inFlight.stream().anyMatch(e -> e == described)) {
                described.layoutFor = statement; // the client asked already: its answer lays the rows out
            } else {
                // The rows' layout (which columns, in which formats) is that of the portal as bound:
                // ask for it right before the rows come, and keep the answer from the client.
                inFlight.add(new InjectedDescribe(statement));
                forward = alloc.compositeBuffer(2).addComponents(true, FrontendMessages.describe(alloc, 'P', portalName), frame);
            }
        }
        inFlight.add(statement);
        if (statement.verdict instanceof Verdict.Allowed) {
            start(statement); // a refused statement's Parse was recorded, and it cannot run
        }
        return forward;
    }

    /** A client's Describe: followed while masking applies, so that its answer is not taken for the gateway's own. */
    void describe(ByteBuf frame) {
        if (masking) {
            MessageReader.Target target = MessageReader.closeOrDescribeTarget(frame);
            ClientDescribe describe = new ClientDescribe((char) target.kind(), target.name());
            inFlight.add(describe);
            portalDescribe = describe.kind == 'P' ? describe : portalDescribe;
        }
    }

    /** Whether the relay must hand over messages of this type whole, for masking. */
    boolean wantsForMasking(byte type) {
        if (!masking) {
            return false;
        }
        return switch (type) {
            case BackendMessages.ROW_DESCRIPTION, BackendMessages.NO_DATA, BackendMessages.NOTICE_RESPONSE -> true;
            case BackendMessages.NOTIFICATION_RESPONSE -> gate.detectsContent();
            case BackendMessages.DATA_ROW -> {
                TrackedStatement head = headStatement();
                yield head != null && head.layout != null;
            }
            default -> false;
        };
    }

    void close(ByteBuf frame) {
        MessageReader.Target target = MessageReader.closeOrDescribeTarget(frame);
        // Forgotten only once the upstream is known to have closed it: see confirm().
        unconfirmed.add(new Op('C', target.kind(), target.name(), ++seq, syncPointsSent));
    }

    /**
     * Every sync point sent has been answered: the Parse, Bind and Close messages sent before
     * them took effect upstream, in order, if no error came back meanwhile; then older versions
     * they replaced are forgotten. After an error nothing is forgotten (which of them the
     * upstream skipped is not known), so the gateway keeps checking every version it may hold.
     */
    private void confirm() {
        boolean clean = !errorSinceConfirmed;
        errorSinceConfirmed = false;
        while (!unconfirmed.isEmpty() && unconfirmed.peek().batch() < syncPointsSent) {
            Op op = unconfirmed.poll();
            if (!clean) {
                continue;
            }
            if (op.kind() == 'B' || op.target() == 'P') {
                Map<Prepared, Long> portal = portals.get(op.name());
                if (portal != null) {
                    versions -= portal.size();
                    portal.values().removeIf(bindSeq -> bindSeq < op.seq());
                    versions += portal.size();
                    if (portal.isEmpty()) {
                        portals.remove(op.name());
                    }
                }
            } else if (op.target() == 'S') {
                List<Prepared> list = statements.get(op.name());
                if (list != null) {
                    versions -= list.size();
                    list.removeIf(v -> v.seq() < op.seq());
                    versions += list.size();
                    if (list.isEmpty()) {
                        statements.remove(op.name());
                    }
                }
            }
        }
    }

    void sync() {
        portalDescribe = null;
        inFlight.add(SYNC);
        syncPointsSent++;
    }

    private ByteBuf substitute(ByteBuf frame, ByteBufAllocator alloc, String statementName,
                               Verdict.Refused refused, boolean asParse) {
        frame.release();
        String token = expectRefusal(syncPointsSent, ClientError.statementRefused(refused));
        return asParse ? FrontendMessages.parse(alloc, statementName, token) : FrontendMessages.query(alloc, token);
    }

    /**
     * A fresh marker token whose syntax error (or missing-portal error) the relay will swap for
     * {@code error}, unless the batch {@code batch} ends first (the upstream skipped it).
     */
    private String expectRefusal(long batch, ClientError error) {
        String token = tokenPrefix + (++refusalCount);
        refusals.add(new Refusal(token, batch, error));
        return token;
    }

    // ---- upstream → client ----------------------------------------------------------------

    /** @return the message to send the client instead, or null to forward the upstream's */
    ByteBuf upstreamMessage(byte type, ByteBuf message, ByteBufAllocator alloc) {
        switch (type) {
            case BackendMessages.COMMAND_COMPLETE -> {
                TrackedStatement head = headStatement();
                if (head != null) {
                    head.complete(MessageReader.commandTag(message));
                    nextResult(head);
                    if (!head.simpleQuery) {
                        finish(head);
                    }
                }
            }
            case BackendMessages.EMPTY_QUERY_RESPONSE, BackendMessages.PORTAL_SUSPENDED -> {
                TrackedStatement head = headStatement();
                if (head != null) {
                    nextResult(head);
                }
                if (head != null && !head.simpleQuery) {
                    finish(head);
                }
            }
            case BackendMessages.ROW_DESCRIPTION, BackendMessages.NO_DATA -> {
                return describedResult(type, message, alloc);
            }
            case BackendMessages.DATA_ROW -> {
                TrackedStatement head = headStatement();
                return head != null && head.layout != null ? head.layout.mask(message, alloc) : null;
            }
            case BackendMessages.NOTICE_RESPONSE -> {
                return maskedServerMessage(type, message, alloc);
            }
            case BackendMessages.NOTIFICATION_RESPONSE -> {
                // Another session's NOTIFY may carry anything: the content detectors read its payload.
                MessageReader.Notification n = MessageReader.notification(message);
                String payload = gate.maskContent(n.payload());
                return payload.equals(n.payload()) ? null
                        : BackendMessages.notificationResponse(alloc, n.processId(), n.channel(), payload);
            }
            case BackendMessages.ERROR_RESPONSE -> {
                return error(message, alloc);
            }
            case BackendMessages.READY_FOR_QUERY -> readyForQuery();
            default -> {
            }
        }
        return null;
    }

    /** A RowDescription or NoData: the answer to a client's Describe, to the gateway's own, or a Query's result starting. */
    private ByteBuf describedResult(byte type, ByteBuf message, ByteBufAllocator alloc) {
        Object head = inFlight.peek();
        if (head instanceof ClientDescribe describe) {
            inFlight.poll();
            if (describe.layoutFor != null) {
                describe.layoutFor.layout = type == BackendMessages.ROW_DESCRIPTION
                        ? ResultLayout.of(MessageReader.rowDescription(message), describe.layoutFor.plan.statement(0)) : null;
            }
            return null;
        }
        if (head instanceof InjectedDescribe injected) {
            inFlight.poll();
            TrackedStatement statement = injected.statement();
            statement.layout = type == BackendMessages.ROW_DESCRIPTION
                    ? ResultLayout.of(MessageReader.rowDescription(message), statement.plan.statement(0)) : null;
            return alloc.buffer(0); // the client did not ask
        }
        TrackedStatement statement = headStatement();
        if (type == BackendMessages.ROW_DESCRIPTION && statement != null && statement.simpleQuery && statement.plan.inspects()
                && statement.plan.statement(statement.answering).needsRows()) {
            statement.layout = ResultLayout.of(MessageReader.rowDescription(message), statement.plan.statement(statement.answering));
        }
        return null;
    }

    /** One statement of a Query was answered: the next result belongs to the next one. */
    private static void nextResult(TrackedStatement statement) {
        statement.layout = null;
        statement.answering++;
    }

    /** An error or notice of a statement whose results are masked, with what could quote masked values masked. */
    private ByteBuf maskedServerMessage(byte type, ByteBuf message, ByteBufAllocator alloc) {
        TrackedStatement head = headStatement();
        if (head == null || !head.plan.inspects()) {
            return null;
        }
        Map<Character, String> masked = io.pgwarden.masking.ServerMessageMasking.mask(MessageReader.errorFields(message),
                type == BackendMessages.NOTICE_RESPONSE, head.plan.statement(head.answering), head.text);
        return masked == null ? null : BackendMessages.errorOrNotice(alloc, type, masked);
    }

    private ByteBuf error(ByteBuf message, ByteBufAllocator alloc) {
        Map<Character, String> fields = MessageReader.errorFields(message);
        String sqlState = fields.get('C');
        errorSinceConfirmed = true;
        // Describes before the error's Sync are answered by it or skipped after it.
        for (var it = inFlight.iterator(); it.hasNext(); ) {
            Object entry = it.next();
            if (entry == SYNC) {
                break;
            }
            if (entry instanceof ClientDescribe || entry instanceof InjectedDescribe) {
                it.remove();
            }
        }
        ByteBuf replacement = null;
        Refusal refusal = refusals.peek();
        if (refusal != null && fields.getOrDefault('M', "").contains(refusal.token())) {
            refusals.poll();
            replacement = refusal.error().encode(alloc);
            sqlState = refusal.error().sqlState();
        } else if (masking) {
            replacement = maskedServerMessage(BackendMessages.ERROR_RESPONSE, message, alloc);
        }
        TrackedStatement head = headStatement();
        if (head != null) {
            head.sqlState = sqlState;
            if (!head.simpleQuery) {
                finish(head);
                // The upstream skips the rest of the batch: its Executes get no answer.
                for (Object entry : inFlight) {
                    if (entry == SYNC) {
                        break;
                    }
                    if (entry instanceof TrackedStatement skippedStatement) {
                        skippedStatement.skipped = true;
                    }
                }
            }
        }
        return replacement;
    }

    private void readyForQuery() {
        readyReceived++;
        Object entry;
        while ((entry = inFlight.poll()) != null) {
            if (entry == SYNC) {
                break;
            }
            if (!(entry instanceof TrackedStatement statement)) {
                continue; // a Describe the upstream skipped
            }
            if (statement.simpleQuery) {
                finishOnly(statement);
                break;
            }
            // An Execute still here got no answer before its batch ended: the upstream skipped it.
            statement.skipped = true;
            finishOnly(statement);
        }
        // A refusal whose batch has ended was skipped by the upstream after an earlier error.
        while (!refusals.isEmpty() && refusals.peek().batch() < readyReceived) {
            refusals.poll();
        }
        if (readyReceived == syncPointsSent) {
            confirm();
        }
    }

    private TrackedStatement headStatement() {
        Object head = inFlight.peek();
        return head instanceof TrackedStatement s ? s : null;
    }

    /** An Execute's answer ended it: out of the queue, to the audit. */
    private void finish(TrackedStatement statement) {
        inFlight.remove(statement);
        finishOnly(statement);
    }

    private void finishOnly(TrackedStatement statement) {
        statement.finishedNanos = System.nanoTime();
        if (statement.recorded) {
            outcomes.completed(statement);
        }
    }
}
