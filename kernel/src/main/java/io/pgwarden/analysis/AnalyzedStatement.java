package io.pgwarden.analysis;

import java.util.Objects;

/**
 * One statement of a query string: its text as PostgreSQL's parser delimited it (from after
 * the previous semicolon, so possibly with leading whitespace and comments, without its own
 * semicolon) and its analysis. {@code byteOffset} and {@code byteLength} locate the text in
 * the query string's UTF-8 encoding, as libpg_query reports them. {@code lineage} says where
 * its values come from, for masking.
 */
public record AnalyzedStatement(String text, int byteOffset, int byteLength, StatementAnalysis analysis,
                                OutputLineage lineage) {

    public AnalyzedStatement(String text, int byteOffset, int byteLength, StatementAnalysis analysis) {
        this(text, byteOffset, byteLength, analysis, OutputLineage.NONE);
    }

    public AnalyzedStatement {
        Objects.requireNonNull(lineage, "lineage");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(analysis, "analysis");
    }
}
