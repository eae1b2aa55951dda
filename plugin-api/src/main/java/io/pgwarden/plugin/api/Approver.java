package io.pgwarden.plugin.api;

/**
 * One configured approver instance (an entry of {@code approvers[]}), made by its
 * {@link ApproverFactory}: it tells people that a statement waits for them. Decisions are
 * made on the gateway's admin page (the inbox, or a signed link from the notification), so
 * an approver only delivers.
 *
 * <p>{@link #deliver} is called on a virtual thread of its own and may block (SMTP, HTTP);
 * give network calls a timeout. A failure is logged by the gateway and recorded in the audit
 * trail; the request stays open in the admin inbox until it is decided or times out.
 */
public interface Approver extends AutoCloseable {

    /**
     * Delivers a new request.
     *
     * @param links makes the signed approve/deny links for one recipient, named as the
     *              decision will be recorded (an e-mail address, a channel): whoever follows
     *              a link decides as that recipient
     */
    void deliver(ApprovalRequest request, LinkMaker links) throws Exception;

    /** Signs the one-time links of a request for a recipient. */
    @FunctionalInterface
    interface LinkMaker {
        ApprovalRequest.Links forRecipient(String recipient);
    }

    /** Releases what the instance holds; called once at gateway shutdown. */
    @Override
    default void close() {
    }
}
