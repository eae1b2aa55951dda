package io.pgwarden.approval;

import io.pgwarden.audit.AuditLog;
import io.pgwarden.audit.SessionContext;
import io.pgwarden.audit.StatementIntent;
import io.pgwarden.audit.StatementOutcome;
import io.pgwarden.config.GatewayConfig.ApprovalMode;
import io.pgwarden.plugin.api.ApprovalRequest;
import io.pgwarden.plugin.api.AuditEvent.Decision;
import io.pgwarden.policy.ApprovalMatch;
import io.pgwarden.policy.Verdict;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Approval requests (DESIGN §8): opens one for each held statement, tells the rule's
 * approvers, takes decisions from the admin API, times requests out, and hands each waiting
 * session its outcome. Every step is in the audit trail: the held statement as a
 * {@value Decision#HOLD} record on the agent's session (durable before anyone is told), each
 * decision as a record on the gateway's own approvals session, and the statement itself, when
 * it runs or is refused, on the agent's session with the decision as its reason.
 *
 * <p>Thread-safe: sessions call it from their event loops, the admin API from its threads,
 * the timer from its own. Nothing here blocks the caller; estimates and deliveries run on
 * the blocking executor. Requests live in memory: they end with the gateway.
 */
public final class Approvals implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Approvals.class);
    /** Decided requests kept for the admin page and the CLI. */
    static final int MAX_DECIDED_KEPT = 1_000;
    /** Who decides a timeout or a withdrawal, as recorded. */
    static final String GATEWAY = "pgwarden";
    static final String CLIENT = "the client";

    private final Map<String, NamedApprover> approvers;
    private final ApprovalLinks links;
    private final AuditLog audit;
    private final RowEstimator estimator;
    private final Executor blocking;
    private final ScheduledExecutorService timer;
    private final Clock clock;
    private final String auditSession = "approvals-" + java.util.HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final List<Consumer<ApprovalRecord>> listeners = new CopyOnWriteArrayList<>();

    /** Guarded by this. */
    private final Map<String, Request> requests = new LinkedHashMap<>();

    /** One request's state; fields guarded by the service's lock. */
    private final class Request {
        final ApprovalRequest request;
        final HeldStatement held;
        final ApprovalMatch rule;
        final CompletableFuture<ApprovalOutcome> outcome;
        ApprovalStatus status = ApprovalStatus.PENDING;
        String decidedBy;
        String decidedVia;
        Instant decidedAt;
        String decisionReason;
        Instant validUntil;
        ScheduledFuture<?> timeout;
        long holdSequence = -1;
        /**
         * Its HOLD record is durable and the waiting client has been told: from now on the
         * request is listed and may be decided (never before the trail shows it).
         */
        boolean visible;

        Request(ApprovalRequest request, HeldStatement held, ApprovalMatch rule, CompletableFuture<ApprovalOutcome> outcome) {
            this.request = request;
            this.held = held;
            this.rule = rule;
            this.outcome = outcome;
        }

        ApprovalRecord snapshot() {
            return new ApprovalRecord(request, rule.approvers(), rule.mode(), status, decidedBy, decidedVia, decidedAt,
                    decisionReason, validUntil);
        }
    }

    /**
     * A held statement's side of its request: the session waits on {@link #outcome}, tells
     * its client once {@link #opened} completes, and {@link #withdraw}s when the client
     * cancels or goes away.
     */
    public final class Hold {
        private final CompletableFuture<ApprovalOutcome> outcome = new CompletableFuture<>();
        private final CompletableFuture<ApprovalRecord> opened = new CompletableFuture<>();
        private volatile String withdrawn;
        private volatile Request request;

        /** Completes when approvers have been told (hold mode only); never for other outcomes. */
        public CompletableFuture<ApprovalRecord> opened() {
            return opened;
        }

        public CompletableFuture<ApprovalOutcome> outcome() {
            return outcome;
        }

        /** The client no longer waits: a cancel request, a disconnect, the session killed. */
        public void withdraw(String why) {
            withdrawn = why;
            Request r = request;
            if (r != null) {
                settle(r, ApprovalStatus.WITHDRAWN, CLIENT, "session", why);
            } else {
                outcome.complete(withdrawnOutcome(null, why));
            }
        }
    }

    public Approvals(List<NamedApprover> approvers, ApprovalLinks links, AuditLog audit, RowEstimator estimator,
                     Executor blocking, Clock clock) {
        this.approvers = new LinkedHashMap<>();
        approvers.forEach(a -> this.approvers.put(a.name(), a));
        this.links = links;
        this.audit = audit;
        this.estimator = estimator;
        this.blocking = blocking;
        this.timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("pgwarden-approval-timeouts").daemon().factory());
        this.clock = clock;
        audit.sessionStarted(new SessionContext(auditSession, "pgwarden", "approvals", List.of(), null, null, null))
                .exceptionally(e -> {
                    LOG.warn("the approvals' audit session could not be recorded: {}", e.toString());
                    return null;
                });
    }

    public ApprovalLinks links() {
        return links;
    }

    /** Called with every request that opened or changed, on the thread that changed it; must not block. */
    public void subscribe(Consumer<ApprovalRecord> listener) {
        listeners.add(listener);
    }

    public void unsubscribe(Consumer<ApprovalRecord> listener) {
        listeners.remove(listener);
    }

    /**
     * Holds a statement: picks the rule that applies (estimating rows where a rule asks), then
     * in ticket mode redeems an approval the identity already has for this very statement, or
     * opens a request and tells the rule's approvers.
     */
    public Hold hold(HeldStatement statement) {
        Hold hold = new Hold();
        CompletableFuture.supplyAsync(() -> applicableRule(statement), blocking)
                .thenAccept(rule -> {
                    if (rule.isEmpty()) {
                        hold.outcome.complete(new ApprovalOutcome.NotNeeded("the row estimate is under every approval rule's limit"));
                    } else if (hold.withdrawn != null) {
                        hold.outcome.complete(withdrawnOutcome(null, hold.withdrawn));
                    } else {
                        open(statement, rule.get(), hold);
                    }
                })
                .exceptionally(e -> {
                    LOG.error("session {}: holding a statement for approval failed", statement.sessionId(), e);
                    hold.outcome.complete(unavailable(statement.sessionId()));
                    return null;
                });
        return hold;
    }

    private Optional<ApprovalMatch> applicableRule(HeldStatement s) {
        for (ApprovalMatch rule : s.verdict().rules()) {
            if (!rule.needsEstimate()) {
                return Optional.of(rule);
            }
            OptionalLong rows = estimator.estimate(s.upstream(), rule.toEstimate());
            if (rows.isEmpty() || rows.getAsLong() > rule.estimatedRowsOver()) {
                return Optional.of(rule);
            }
        }
        return Optional.empty();
    }

    private void open(HeldStatement s, ApprovalMatch rule, Hold hold) {
        Request r;
        synchronized (this) {
            if (rule.mode() == ApprovalMode.TICKET) {
                Request ticket = ticketFor(s);
                if (ticket != null && ticket.status == ApprovalStatus.APPROVED) {
                    ticket.status = ApprovalStatus.USED;
                    changed(ticket);
                    hold.outcome.complete(new ApprovalOutcome.Approved(ticket.request.id(), ticket.decidedBy, ticket.decidedVia,
                            ticket.decisionReason, true));
                    return;
                }
                if (ticket != null) {
                    hold.outcome.complete(ticketRefusal(ticket, "is still waiting for a decision"));
                    return;
                }
            }
            Instant now = clock.instant();
            String id = newId();
            ApprovalRequest request = new ApprovalRequest(id, s.identity(), s.groups(), s.sessionId(), s.clientAddress(),
                    s.database(), s.text(), rule.rule(), rule.why(), now, now.plus(rule.timeout()), links.page(id));
            r = new Request(request, s, rule, hold.outcome);
            requests.put(id, r);
            trim();
        }
        hold.request = r;
        Verdict.Summary summary = s.verdict().summary();
        StatementIntent intent = new StatementIntent(s.text(), summary.fingerprint(),
                summary.commands().isEmpty() ? null : String.join(",", summary.commands()), summary.relations(), Decision.HOLD,
                (rule.mode() == ApprovalMode.TICKET ? "approval ticket " : "approval request ") + r.request.id() + ": "
                        + rule.rule() + " (" + rule.why() + "); approvers " + String.join(", ", rule.approvers()));
        // The request exists in the trail before anyone is asked about it.
        audit.recordIntent(s.sessionId(), intent).whenComplete((sequence, failure) -> {
            if (failure != null) {
                LOG.warn("session {}: approval request {} not opened, its audit record failed: {}", s.sessionId(),
                        r.request.id(), failure.toString());
                synchronized (this) {
                    requests.remove(r.request.id());
                }
                hold.outcome.complete(unavailable(s.sessionId()));
                return;
            }
            published(r, sequence, hold);
        });
    }

    private void published(Request r, long sequence, Hold hold) {
        boolean withdrawnFirst;
        synchronized (this) {
            r.holdSequence = sequence;
            withdrawnFirst = r.status != ApprovalStatus.PENDING; // settle() ran before the hold was recorded
        }
        if (withdrawnFirst) {
            holdOutcome(r, StatementOutcome.error("57014", null));
            return;
        }
        if (r.rule.mode() == ApprovalMode.HOLD) {
            // Before anyone can decide: the client's notice is then queued ahead of any outcome.
            hold.opened.complete(r.snapshot());
        }
        synchronized (this) {
            if (r.status != ApprovalStatus.PENDING) {
                return;
            }
            r.visible = true;
            r.timeout = timer.schedule(() -> settle(r, ApprovalStatus.TIMED_OUT, GATEWAY, "timeout",
                    "no decision within " + io.pgwarden.config.Durations.format(r.rule.timeout())),
                    Math.max(0, Duration.between(clock.instant(), r.request.expires()).toMillis()), TimeUnit.MILLISECONDS);
        }
        LOG.info("session {}: {} approval request {} opened for identity {} by {} ({}); approvers: {}", r.held.sessionId(),
                r.rule.mode().name().toLowerCase(java.util.Locale.ROOT), r.request.id(), r.request.identity(), r.rule.rule(),
                r.rule.why(), String.join(", ", r.rule.approvers()));
        changed(r);
        notifyApprovers(r);
        if (r.rule.mode() == ApprovalMode.TICKET) {
            // The client does not wait: it is refused now, and comes back once approved.
            holdOutcome(r, StatementOutcome.error("42501", null));
            hold.outcome.complete(ticketRefusal(r, "was opened"));
        }
    }


    private void notifyApprovers(Request r) {
        for (String name : r.rule.approvers()) {
            NamedApprover a = approvers.get(name);
            if (a == null || a.approver() == null) {
                continue; // web: the inbox shows every pending request
            }
            blocking.execute(() -> {
                try {
                    a.approver().deliver(r.request, recipient -> links.links(r.request.id(), recipient, a.name()));
                    LOG.info("approval request {}: {} notified", r.request.id(), a.instance());
                } catch (Exception e) {
                    LOG.warn("approval request {}: {} could not deliver the notification: {}", r.request.id(), a.instance(),
                            e.toString());
                    recordDecisionStep(r, Decision.HOLD, "notification through " + a.instance() + " failed: " + e.getClass().getSimpleName());
                }
            });
        }
    }

    /** An approved ticket of this identity for this very statement text, or one still pending; null when none. */
    private Request ticketFor(HeldStatement s) {
        Instant now = clock.instant();
        Request pending = null;
        for (Request r : requests.values()) {
            if (r.rule.mode() != ApprovalMode.TICKET || !r.held.identity().equals(s.identity())
                    || !r.held.rawText().equals(s.rawText()) || !r.held.upstream().equals(s.upstream())) {
                continue;
            }
            if (r.status == ApprovalStatus.APPROVED && now.isBefore(r.validUntil)) {
                return r;
            }
            if (r.status == ApprovalStatus.PENDING) {
                pending = r;
            }
        }
        return pending;
    }

    /**
     * Records a person's decision. In hold mode the waiting statement runs (once) or is
     * refused at once; in ticket mode an approval may be used once within the rule's validity.
     *
     * @param by  who decides: recorded, and never the agent that sent the statement
     * @param via how: {@code cli}, {@code web}, or the approver instance of a signed link
     */
    public ApprovalRecord decide(String id, boolean approve, String by, String via, String reason) throws ApprovalException {
        if (by == null || by.isBlank()) {
            throw new ApprovalException(400, "the approver's name is required");
        }
        Request r;
        synchronized (this) {
            r = requests.get(id);
            if (r == null || !r.visible) {
                throw new ApprovalException(404, "no approval request " + id);
            }
            if (r.status != ApprovalStatus.PENDING) {
                throw new ApprovalException(409, "approval request " + id + " is already " + r.status.name().toLowerCase(java.util.Locale.ROOT));
            }
            if (by.equals(r.request.identity())) {
                LOG.warn("approval request {}: identity {} tried to decide its own request", id, by);
                throw new ApprovalException(403, "an identity cannot decide its own approval request");
            }
        }
        if (!settle(r, approve ? ApprovalStatus.APPROVED : ApprovalStatus.DENIED, by, via, reason)) {
            throw new ApprovalException(409, "approval request " + id + " was decided meanwhile");
        }
        return record(id).orElseThrow();
    }

    /** Moves a pending request to its final status, records it, and tells the waiting session. */
    private boolean settle(Request r, ApprovalStatus status, String by, String via, String reason) {
        synchronized (this) {
            if (r.status != ApprovalStatus.PENDING) {
                return false;
            }
            r.status = status;
            r.decidedBy = by;
            r.decidedVia = via;
            r.decidedAt = clock.instant();
            r.decisionReason = reason;
            if (status == ApprovalStatus.APPROVED && r.rule.mode() == ApprovalMode.TICKET) {
                r.validUntil = r.decidedAt.plus(r.rule.validity());
            }
            if (r.timeout != null) {
                r.timeout.cancel(false);
            }
        }
        LOG.info("approval request {} of identity {}: {} by {} via {}{}", r.request.id(), r.request.identity(),
                status.name().toLowerCase(java.util.Locale.ROOT), by, via, reason == null ? "" : " (" + reason + ")");
        String decision = switch (status) {
            case APPROVED -> Decision.APPROVED;
            case DENIED -> Decision.DENIED;
            case TIMED_OUT -> Decision.TIMED_OUT;
            default -> Decision.WITHDRAWN;
        };
        recordDecisionStep(r, decision, status.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " by " + by + " via " + via
                + (reason == null || reason.isBlank() ? "" : ": " + reason));
        boolean ticket = r.rule.mode() == ApprovalMode.TICKET;
        if (!ticket) {
            holdOutcome(r, switch (status) {
                case APPROVED -> StatementOutcome.ok(null, Duration.between(r.request.created(), r.decidedAt));
                case WITHDRAWN -> StatementOutcome.error("57014", Duration.between(r.request.created(), r.decidedAt));
                default -> StatementOutcome.error("42501", Duration.between(r.request.created(), r.decidedAt));
            });
            r.outcome.complete(switch (status) {
                case APPROVED -> new ApprovalOutcome.Approved(r.request.id(), by, via, reason, false);
                case WITHDRAWN -> withdrawnOutcome(r.request.id(), reason);
                case TIMED_OUT -> new ApprovalOutcome.Refused(r.request.id(), status, "42501",
                        "statement not run: approval request " + r.request.id() + " timed out without a decision",
                        "Nobody decided within " + io.pgwarden.config.Durations.format(r.rule.timeout()) + ".", null,
                        "approval request " + r.request.id() + " timed out");
                default -> new ApprovalOutcome.Refused(r.request.id(), status, "42501",
                        "statement not run: approval request " + r.request.id() + " was denied by " + by,
                        reason == null || reason.isBlank() ? null : "Reason: " + reason, null,
                        "approval request " + r.request.id() + " denied by " + by + " via " + via
                                + (reason == null || reason.isBlank() ? "" : ": " + reason));
            });
        } else if (status == ApprovalStatus.WITHDRAWN) {
            r.outcome.complete(withdrawnOutcome(r.request.id(), reason));
        }
        changed(r);
        return true;
    }

    /** The HOLD record's outcome: how the hold ended. */
    private void holdOutcome(Request r, StatementOutcome outcome) {
        long sequence;
        synchronized (this) {
            sequence = r.holdSequence;
        }
        if (sequence >= 0) {
            audit.recordOutcome(sequence, outcome).exceptionally(e -> {
                LOG.debug("approval request {}: the hold's outcome was not recorded: {}", r.request.id(), e.toString());
                return null;
            });
        }
    }

    /** A decision (or a failed delivery) as a record of its own on the gateway's approvals session. */
    private void recordDecisionStep(Request r, String decision, String what) {
        Verdict.Summary summary = r.held.verdict().summary();
        StatementIntent intent = new StatementIntent(r.held.text(), summary.fingerprint(),
                summary.commands().isEmpty() ? null : String.join(",", summary.commands()), summary.relations(), decision,
                "approval request " + r.request.id() + " of identity " + r.request.identity() + " (session "
                        + r.held.sessionId() + "): " + what);
        audit.recordIntent(auditSession, intent)
                .thenCompose(sequence -> audit.recordOutcome(sequence, StatementOutcome.ok(null, null)))
                .exceptionally(e -> {
                    LOG.warn("approval request {}: a step could not be recorded in the audit trail: {}", r.request.id(), e.toString());
                    return null;
                });
    }

    private static ApprovalOutcome.Refused withdrawnOutcome(String id, String why) {
        return new ApprovalOutcome.Refused(id, ApprovalStatus.WITHDRAWN, "57014", "canceling statement due to user request",
                id == null ? null : "Approval request " + id + " was withdrawn.", null,
                (id == null ? "held statement" : "approval request " + id) + " withdrawn: " + why);
    }

    private ApprovalOutcome.Refused ticketRefusal(Request r, String state) {
        return new ApprovalOutcome.Refused(r.request.id(), ApprovalStatus.PENDING, "42501",
                "statement not run: it needs approval (approval ticket " + r.request.id() + " " + state + ")",
                "Rule " + r.rule.rule() + ": " + r.rule.why() + ".",
                "Once it is approved (" + r.request.page() + "), send the same statement again within "
                        + io.pgwarden.config.Durations.format(r.rule.validity()) + ": it runs once.",
                "approval ticket " + r.request.id() + " " + state);
    }

    private static ApprovalOutcome.Refused unavailable(String sessionId) {
        return new ApprovalOutcome.Refused(null, ApprovalStatus.WITHDRAWN, "58000",
                "statement not run: the gateway cannot hold it for approval (session " + sessionId + ")", null,
                "Try again later; the gateway's operator has been told why.", "approval unavailable");
    }

    private void changed(Request r) {
        ApprovalRecord snapshot;
        synchronized (this) {
            snapshot = r.snapshot();
        }
        for (Consumer<ApprovalRecord> l : listeners) {
            try {
                l.accept(snapshot);
            } catch (RuntimeException e) {
                LOG.debug("an approval listener failed: {}", e.toString());
            }
        }
    }

    /** Forgets the oldest decided requests beyond {@link #MAX_DECIDED_KEPT}; pending ones and usable tickets stay. */
    private void trim() {
        int decided = (int) requests.values().stream().filter(r -> r.status != ApprovalStatus.PENDING).count();
        var it = requests.values().iterator();
        Instant now = clock.instant();
        while (decided > MAX_DECIDED_KEPT && it.hasNext()) {
            Request r = it.next();
            if (r.status != ApprovalStatus.PENDING && (r.validUntil == null || now.isAfter(r.validUntil) || r.status == ApprovalStatus.USED)) {
                it.remove();
                decided--;
            }
        }
    }

    private String newId() {
        String id;
        do {
            id = java.util.HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(4);
        } while (requests.containsKey(id));
        return id;
    }

    public synchronized Optional<ApprovalRecord> record(String id) {
        Request r = requests.get(id);
        return r == null || !r.visible ? Optional.empty() : Optional.of(r.snapshot());
    }

    /** Requests, oldest first: the pending ones, or all that are kept. */
    public synchronized List<ApprovalRecord> list(boolean all) {
        List<ApprovalRecord> out = new ArrayList<>();
        for (Request r : requests.values()) {
            if (r.visible && (all || r.status == ApprovalStatus.PENDING)) {
                out.add(r.snapshot());
            }
        }
        out.sort(Comparator.comparing(a -> a.request().created()));
        return out;
    }

    /** Withdraws what still waits (the gateway stops) and closes the approver plugins. */
    @Override
    public void close() {
        List<Request> pending;
        synchronized (this) {
            pending = requests.values().stream().filter(r -> r.status == ApprovalStatus.PENDING).toList();
        }
        pending.forEach(r -> settle(r, ApprovalStatus.WITHDRAWN, GATEWAY, "shutdown", "the gateway stopped"));
        audit.sessionEnded(auditSession, "gateway stopped").exceptionally(e -> null);
        timer.shutdownNow();
        NamedApprover.closeAll(List.copyOf(approvers.values()));
    }
}
