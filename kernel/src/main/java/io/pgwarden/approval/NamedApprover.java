package io.pgwarden.approval;

import io.pgwarden.plugin.api.Approver;

/**
 * A configured approver instance.
 *
 * @param name     what rules call it by: its {@code name}, else its {@code type}
 * @param instance where it is configured, for log lines, e.g. {@code approvers[1] (email)}
 * @param approver the plugin's instance; null for {@code web}, the admin inbox, which needs no delivery
 */
public record NamedApprover(String name, String instance, Approver approver) {
    public static final String WEB = "web";

    /** Closes the plugin instances; a failure is logged, the rest are still closed. */
    public static void closeAll(java.util.List<NamedApprover> approvers) {
        for (NamedApprover a : approvers) {
            if (a.approver() != null) {
                try {
                    a.approver().close();
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(NamedApprover.class).warn("approver {} did not close cleanly", a.instance(), e);
                }
            }
        }
    }
}
