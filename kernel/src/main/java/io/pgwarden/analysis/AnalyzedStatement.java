package io.pgwarden.analysis;

import java.util.Objects;

/**
 * One statement of a query string: its text as PostgreSQL's parser delimited it (from after
 * the previous semicolon, so possibly with leading whitespace and comments, without its own
 * semicolon) and its analysis. {@code byteOffset} and {@code byteLength} locate the text in
 * the query string's UTF-8 encoding, as libpg_query reports them. Where its values come from
 * (for masking) is asked separately: {@link StatementAnalyzer#lineage}.
 */
public record AnalyzedStatement(String text, int byteOffset, int byteLength, StatementAnalysis analysis) {

    public AnalyzedStatement {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(analysis, "analysis");
    }
}
