package io.pgwarden.admin;

import io.javalin.http.Context;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * {@code /metrics} in Prometheus' text format (Micrometer), unauthenticated and minimal:
 * counts only, no names of identities, statements or tables.
 */
final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    Metrics(AdminServer.Services services) {
        Gauge.builder("pgwarden_sessions", services.sessions(), s -> s.sessions().size())
                .description("Live agent sessions").register(registry);
        Gauge.builder("pgwarden_approvals_pending", services.approvals(), a -> a.list(false).size())
                .description("Approval requests waiting for a decision").register(registry);
        Gauge.builder("pgwarden_audit_records_written", services.audit(), a -> a.recordsWritten())
                .description("Audit records written since start").register(registry);
    }

    void scrape(Context ctx) {
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(registry.scrape());
    }
}
