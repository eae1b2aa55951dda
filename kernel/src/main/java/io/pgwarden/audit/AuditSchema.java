package io.pgwarden.audit;

import io.pgwarden.store.Migration;
import java.util.List;

/**
 * The audit tables (component {@code audit} in {@code schema_version}).
 *
 * <ul>
 *   <li>{@code audit_record}: the hash chain, one row per record, never updated or deleted
 *       by the gateway. Kinds: SESSION_START, INTENT (a statement before it is forwarded),
 *       OUTCOME (what became of an intent, {@code intent_seq} naming it), SESSION_END.</li>
 *   <li>{@code audit_head}: the last record's sequence and hash, written in the same
 *       transaction, so that cutting records off the end of the chain is detected.</li>
 *   <li>{@code audit_open}: sessions and intents not yet closed, so that the start after a
 *       crash finds them without reading the whole chain. Derived state, not chained.</li>
 *   <li>{@code audit_sink_cursor}: per sink, the last record delivered. Not chained.</li>
 * </ul>
 */
final class AuditSchema {
    static final String COMPONENT = "audit";

    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, "audit records, chain head, open sessions and intents, sink cursors", List.of(
                    """
                    CREATE TABLE IF NOT EXISTS audit_record (
                        seq            BIGINT PRIMARY KEY,
                        kind           VARCHAR(16) NOT NULL,
                        recorded_at    TIMESTAMP(6) WITH TIME ZONE NOT NULL,
                        gateway_id     VARCHAR(255) NOT NULL,
                        session_id     VARCHAR(255) NOT NULL,
                        identity_name  VARCHAR(1000),
                        issuer         VARCHAR(1000),
                        groups_json    VARCHAR(100000),
                        client_address VARCHAR(255),
                        database_name  VARCHAR(1000),
                        upstream       VARCHAR(1000),
                        statement      VARCHAR(1100000),
                        fingerprint    VARCHAR(1000),
                        command        VARCHAR(255),
                        relations_json VARCHAR(1000000),
                        decision       VARCHAR(64),
                        reason         VARCHAR(10000),
                        intent_seq     BIGINT,
                        outcome        VARCHAR(16),
                        rows_affected  BIGINT,
                        sqlstate       VARCHAR(5),
                        duration_us    BIGINT,
                        hash           BINARY(32) NOT NULL
                    )""",
                    "CREATE INDEX IF NOT EXISTS audit_record_intent ON audit_record (intent_seq)",
                    "CREATE INDEX IF NOT EXISTS audit_record_identity ON audit_record (identity_name, seq)",
                    """
                    CREATE TABLE IF NOT EXISTS audit_head (
                        id       INT PRIMARY KEY,
                        last_seq BIGINT NOT NULL,
                        hash     BINARY(32) NOT NULL
                    )""",
                    """
                    CREATE TABLE IF NOT EXISTS audit_open (
                        seq        BIGINT PRIMARY KEY,
                        kind       VARCHAR(16) NOT NULL,
                        session_id VARCHAR(255) NOT NULL,
                        gateway_id VARCHAR(255) NOT NULL
                    )""",
                    """
                    CREATE TABLE IF NOT EXISTS audit_sink_cursor (
                        sink              VARCHAR(255) PRIMARY KEY,
                        delivered_through BIGINT NOT NULL,
                        updated_at        TIMESTAMP(6) WITH TIME ZONE NOT NULL
                    )""")));

    /** The chained columns in canonical order (everything but the hash). */
    static final String RECORD_COLUMNS = "seq, kind, recorded_at, gateway_id, session_id, identity_name, issuer, "
            + "groups_json, client_address, database_name, upstream, statement, fingerprint, command, relations_json, "
            + "decision, reason, intent_seq, outcome, rows_affected, sqlstate, duration_us";

    private AuditSchema() {
    }
}
