package io.pgwarden.analysis;

/** How a statement uses a relation. */
public enum Access {
    /** Its rows or definition are read (FROM, JOIN, subqueries, USING, COPY TO, LOCK IN ACCESS SHARE MODE, ...). */
    READ,
    /**
     * Its rows or definition are changed: INSERT/UPDATE/DELETE/MERGE targets, TRUNCATE, COPY FROM,
     * created, altered, dropped or renamed relations, LOCK in any mode above ACCESS SHARE.
     */
    WRITE
}
