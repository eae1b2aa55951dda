package io.pgwarden.audit;

/**
 * What {@link AuditReader#verify} found.
 *
 * @param ok         every record matches its hash and the chain is complete
 * @param checked    how many records were checked before the first problem (all, when ok)
 * @param brokenSeq  the sequence number of the first record that is wrong or missing, or -1 when ok
 * @param problem    what is wrong there, in the operator's words; null when ok
 * @param headSeq    the last record's sequence number (0 for an empty store)
 */
public record VerifyResult(boolean ok, long checked, long brokenSeq, String problem, long headSeq) {

    static VerifyResult ok(long checked, long head) {
        return new VerifyResult(true, checked, -1, null, head);
    }

    static VerifyResult broken(long checked, long seq, String problem, long head) {
        return new VerifyResult(false, checked, seq, problem, head);
    }

    @Override
    public String toString() {
        return ok ? "ok: " + checked + " records, chain intact through " + headSeq
                : "BROKEN at record " + brokenSeq + ": " + problem + " (" + checked + " records before it are intact)";
    }
}
