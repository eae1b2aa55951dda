package io.pgwarden.policy;

import io.pgwarden.analysis.Access;
import io.pgwarden.analysis.AnalysisException;
import io.pgwarden.analysis.AnalyzedStatement;
import io.pgwarden.analysis.Command;
import io.pgwarden.analysis.FunctionRef;
import io.pgwarden.analysis.RelationRef;
import io.pgwarden.analysis.SqlSyntaxException;
import io.pgwarden.analysis.StatementAnalysis;
import io.pgwarden.analysis.StatementDetail;
import io.pgwarden.wire.ClientEncodings;
import io.pgwarden.analysis.StatementAnalyzer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One session's policy decisions (DESIGN §6): every statement of a Query or Parse is
 * analysed with PostgreSQL's grammar, checked against the session's policy and the built-in
 * deny list, and the whole text is allowed or refused as one. What cannot be analysed is
 * refused. Keeps what the session's statements change that later decisions depend on: the
 * schemas on its search_path, and its SQL-level prepared statements (EXECUTE is checked
 * against what was PREPAREd under that name).
 */
public final class PolicyGate implements StatementGate {

    /** Names a session may PREPARE at SQL level; beyond, PREPARE is refused (memory bound). */
    static final int MAX_PREPARED_VERSIONS = 10_000;

    private static final Set<String> CATALOG_SCHEMAS = Set.of("pg_catalog", "information_schema");

    private final CompiledPolicy policy;
    private final ApprovalRules approvals;
    private final StatementAnalyzer analyzer;
    private final SearchPathTracker searchPath;
    /** Every analysis PREPAREd under a name; EXECUTE must pass all of them (a failed DEALLOCATE or PREPARE is invisible here). */
    private final Map<String, List<StatementAnalysis>> prepared = new HashMap<>();
    private int preparedVersions;

    private final io.pgwarden.masking.MaskingPlanner masking;

    PolicyGate(CompiledPolicy policy, ApprovalRules approvals, StatementAnalyzer analyzer, SearchPathTracker searchPath) {
        this.policy = policy;
        this.approvals = approvals;
        this.analyzer = analyzer;
        this.searchPath = searchPath;
        this.masking = new io.pgwarden.masking.MaskingPlanner(policy.mask, this::schemaCandidates, analyzer::lineage);
    }

    @Override
    public boolean detectsContent() {
        return !policy.mask.detection().isEmpty();
    }

    @Override
    public String maskContent(String text) {
        return io.pgwarden.masking.ContentMasking.maskText(policy.mask, text);
    }

    @Override
    public boolean masks() {
        return masking.active();
    }

    @Override
    public void maskingCatalog(io.pgwarden.masking.MaskingCatalog catalog) {
        masking.catalog(catalog);
    }

    @Override
    public Verdict query(String sql) {
        return decide(sql);
    }

    @Override
    public Verdict parse(String name, String sql) {
        return decide(sql);
    }

    @Override
    public long generation() {
        return searchPath.generation();
    }

    @Override
    public Verdict executePrepared(String name) {
        List<StatementAnalysis> versions = prepared.get(name);
        if (versions == null) {
            return new Verdict.Allowed(Verdict.Summary.NONE);
        }
        for (StatementAnalysis version : versions) {
            Refusal refusal = check(version);
            if (refusal != null) {
                return new Verdict.Refused(Verdict.Summary.NONE, refusal.sqlState, refusal.message, refusal.detail, refusal.hint,
                        refusal.message);
            }
        }
        List<ApprovalMatch> held = approvals.isEmpty() ? List.of() : approvals.match(versions.stream()
                .map(v -> new AnalyzedStatement("EXECUTE " + name, 0, 0, v)).toList(), n -> List.of());
        return held.isEmpty() ? new Verdict.Allowed(Verdict.Summary.NONE) : new Verdict.Held(Verdict.Summary.NONE, held);
    }

    @Override
    public String withoutLiterals(String sql) {
        try {
            return analyzer.normalize(sql);
        } catch (AnalysisException e) {
            return "<statement that does not parse, not stored: audit.redact_literals is on>";
        }
    }

    private Verdict decide(String sql) {
        List<AnalyzedStatement> statements;
        try {
            statements = analyzer.analyze(sql);
        } catch (SqlSyntaxException e) {
            return new Verdict.Refused(Verdict.Summary.NONE, "42601", e.getMessage(), null, null, "syntax error");
        } catch (AnalysisException e) {
            return new Verdict.Refused(Verdict.Summary.NONE, "42501", e.getMessage(), null,
                    "pgwarden refuses statements it cannot analyse.", "not analysable: " + e.getMessage());
        }
        Set<String> commands = new LinkedHashSet<>();
        Set<String> relations = new LinkedHashSet<>();
        Set<String> functions = new LinkedHashSet<>();
        for (AnalyzedStatement s : statements) {
            StatementAnalysis a = s.analysis();
            a.commands().forEach(c -> commands.add(c.name()));
            a.relations().forEach(r -> relations.add(r.qualifiedName()));
            a.functions().forEach(f -> functions.add(f.qualifiedName()));
        }
        String fingerprint;
        try {
            fingerprint = statements.isEmpty() ? null : analyzer.fingerprint(sql);
        } catch (AnalysisException e) {
            fingerprint = null; // it parsed a moment ago; the audit does without
        }
        Verdict.Summary summary = new Verdict.Summary(List.copyOf(commands), List.copyOf(relations), List.copyOf(functions),
                fingerprint);
        for (AnalyzedStatement s : statements) {
            Refusal refusal = check(s.analysis());
            if (refusal == null) {
                refusal = checkPrepared(s.analysis());
            }
            if (refusal != null) {
                String detail = refusal.detail;
                if (statements.size() > 1) {
                    detail = (detail == null ? "" : detail + " ")
                            + "The query string holds " + statements.size() + " statements; none of them was run.";
                }
                return new Verdict.Refused(summary, refusal.sqlState, refusal.message, detail, refusal.hint, refusal.message);
            }
            // A later statement of the same string runs under the settings of the earlier ones.
            remember(s.analysis());
        }
        io.pgwarden.masking.MaskingPlanner.Decision masked = masking.decide(statements);
        if (masked.refusal() != null) {
            return new Verdict.Refused(summary, "42501", "permission denied by pgwarden policy \"" + policy.name + "\": "
                    + masked.refusal().message(), null, masked.refusal().hint(), "masking: " + masked.refusal().message());
        }
        List<ApprovalMatch> held = approvals.isEmpty() ? List.of()
                : approvals.match(statements, name -> prepared.getOrDefault(name, List.of()));
        return held.isEmpty() ? new Verdict.Allowed(summary, masked.plan()) : new Verdict.Held(summary, held, masked.plan());
    }

    private record Refusal(String sqlState, String message, String detail, String hint) {
    }

    private Refusal denied(String what, String detail, String hint) {
        return new Refusal("42501", "permission denied by pgwarden policy \"" + policy.name + "\": " + what, detail, hint);
    }

    /** The first thing in the statement that the policy does not allow, or null. */
    Refusal check(StatementAnalysis a) {
        String target = a.relations().isEmpty() ? "" : " on " + a.relations().getFirst().qualifiedName();
        for (Command c : a.commands()) {
            if (policy.deniedCommands.contains(c)) {
                return denied(c + target + " is denied", null, "deny.commands of policy \"" + policy.name + "\" names " + c + ".");
            }
            if (BuiltInDenyList.COMMANDS.contains(c) && !policy.allowedCommands.contains(c) && !returnsToSessionRole(c, a)) {
                return denied(c + target + " is on the gateway's built-in deny list", null,
                        "A policy lifts it only by naming " + c + " in allow.commands.");
            }
            if (!CompiledPolicy.SESSION_COMMANDS.contains(c) && !BuiltInDenyList.COMMANDS.contains(c)
                    && !policy.allCommands && !policy.allowedCommands.contains(c)) {
                return denied(c + target + " is not allowed", null,
                        "Policy \"" + policy.name + "\" allows the commands " + policy.allowedCommandsText() + ".");
            }
        }
        if (a.has(StatementAnalysis.Flag.LOCKING) && a.commands().contains(Command.SELECT) && !policy.allCommands
                && !policy.allowedCommands.contains(Command.UPDATE)) {
            // PostgreSQL asks for UPDATE privilege too: row locks block other sessions' writes.
            return denied("SELECT ... FOR UPDATE/SHARE" + target + " is not allowed", null,
                    "Row locks need UPDATE in allow.commands of policy \"" + policy.name + "\".");
        }
        if (a.detail() instanceof StatementDetail.Setting s && s.name().equals("client_encoding")
                && s.change() == StatementDetail.SettingChange.SET
                && s.values().stream().anyMatch(v -> !ClientEncodings.readsAsUtf8(v))) {
            return new Refusal("0A000", "pgwarden does not support a client_encoding other than UTF8", null,
                    "The gateway reads every statement as UTF-8 to check it.");
        }
        if (a.has(StatementAnalysis.Flag.ALL_RELATIONS) && !policy.allRelations) {
            return denied(a.command() + " applies to relations it does not name, which allow.relations cannot check", null,
                    "Name the tables in the statement.");
        }
        for (RelationRef r : a.relations()) {
            Refusal refusal = checkRelation(a.command(), r);
            if (refusal != null) {
                return refusal;
            }
        }
        for (FunctionRef f : a.functions()) {
            Refusal refusal = checkFunction(f);
            if (refusal != null) {
                return refusal;
            }
        }
        return null;
    }

    /** RESET ROLE, RESET SESSION AUTHORIZATION, RESET ALL, DISCARD ALL: back to the session's own login role. */
    private static boolean returnsToSessionRole(Command c, StatementAnalysis a) {
        if (c != Command.ROLE_SWITCH) {
            return false;
        }
        return switch (a.detail()) {
            case StatementDetail.Setting s -> s.change() == StatementDetail.SettingChange.RESET
                    || s.change() == StatementDetail.SettingChange.RESET_ALL
                    || s.change() == StatementDetail.SettingChange.SET_DEFAULT;
            case StatementDetail.Discard d -> d.target() == StatementDetail.DiscardTarget.ALL;
            default -> false;
        };
    }

    /** The schemas a relation name may resolve to in this session; a null element stands for any schema. */
    private List<String> schemaCandidates(RelationRef r) {
        List<String> candidates = new ArrayList<>();
        if (r.schema() != null) {
            candidates.add(r.schema());
        } else if (searchPath.unknown()) {
            candidates.add(null);
        } else {
            candidates.add("pg_temp");
            candidates.add("pg_catalog");
            candidates.addAll(searchPath.schemas());
        }
        return candidates;
    }

    private Refusal checkRelation(Command command, RelationRef r) {
        List<String> candidates = schemaCandidates(r);
        String unknownNote = r.schema() == null && searchPath.unknown()
                ? "The session changed its search_path in a way the gateway cannot follow, so the unqualified name \""
                + r.name() + "\" may resolve to any schema." : null;
        String shown = r.qualifiedName();
        String resolves = r.schema() == null && candidates.size() > 1
                ? "The unqualified name \"" + r.name() + "\" may resolve to a relation in any of the schemas "
                + String.join(", ", candidates) + " (pg_temp, pg_catalog and the session's search_path)." : unknownNote;
        for (String schema : candidates) {
            for (NamePattern p : policy.deniedRelations) {
                if (schema == null ? p.matchesInSomeSchema(r.name()) : p.matches(schema, r.name())) {
                    return denied(command + " on " + shown + " is denied", resolves,
                            "deny.relations of policy \"" + policy.name + "\" has \"" + p.text() + "\".");
                }
            }
            for (NamePattern p : BuiltInDenyList.RELATIONS) {
                if ((schema == null ? p.matchesInSomeSchema(r.name()) : p.matches(schema, r.name()))
                        && !policy.namedRelations.contains(p.text())) {
                    return denied(command + " on " + shown + " is on the gateway's built-in deny list", resolves,
                            "A policy lifts it only by naming " + p.text() + " in allow.relations.");
                }
            }
            if (r.access() == Access.WRITE) {
                for (NamePattern p : BuiltInDenyList.WRITTEN_RELATIONS) {
                    if ((schema == null ? p.matchesInSomeSchema(r.name()) : p.matches(schema, r.name()))
                            && !policy.namedRelations.contains(p.text())) {
                        return denied(command + " on " + shown + " is on the gateway's built-in deny list", resolves,
                                "A policy lifts it only by naming " + p.text() + " in allow.relations.");
                    }
                }
            }
            if (schema != null && (CATALOG_SCHEMAS.contains(schema) || schema.equals("pg_temp"))) {
                continue; // system catalogs and the session's own temporary tables: deny lists only
            }
            boolean allowed = policy.allRelations || policy.allowedRelations.stream()
                    .anyMatch(p -> schema == null ? p.matchesInEverySchema(r.name()) : p.matches(schema, r.name()));
            if (!allowed) {
                return denied(command + " on " + (schema == null || r.schema() != null ? shown : schema + "." + r.name())
                        + " is not allowed", resolves,
                        "Policy \"" + policy.name + "\" allows the relations " + policy.allowedRelationsText() + ".");
            }
        }
        return null;
    }

    private Refusal checkFunction(FunctionRef f) {
        for (NamePattern p : policy.deniedFunctions) {
            if (f.schema() == null ? p.matchesInSomeSchema(f.name()) : p.matches(f.schema(), f.name())) {
                return denied("function " + f.qualifiedName() + " is denied", null,
                        "deny.functions of policy \"" + policy.name + "\" has \"" + p.text() + "\".");
            }
        }
        for (NamePattern p : BuiltInDenyList.FUNCTIONS) {
            if (p.matchesInSomeSchema(f.name()) && policy.allowedFunctions.stream()
                    .noneMatch(a -> f.schema() == null ? a.matchesInSomeSchema(f.name()) : a.matches(f.schema(), f.name()))) {
                return denied("function " + f.qualifiedName() + " is on the gateway's built-in deny list", null,
                        "A policy lifts it only by naming it in allow.functions.");
            }
        }
        return null;
    }

    /** EXECUTE (also inside EXPLAIN or CREATE TABLE AS) runs what was PREPAREd: that must pass too. */
    private Refusal checkPrepared(StatementAnalysis a) {
        if (a.preparedStatement().isEmpty()) {
            return null;
        }
        String name = a.preparedStatement().get();
        List<StatementAnalysis> versions = prepared.get(name);
        if (versions == null) {
            return new Refusal("26000", "prepared statement \"" + name + "\" does not exist", null, null);
        }
        for (StatementAnalysis version : versions) {
            Refusal refusal = check(version);
            if (refusal != null) {
                return refusal;
            }
        }
        return null;
    }

    /** What an allowed statement changes that later decisions depend on. */
    private void remember(StatementAnalysis a) {
        switch (a.detail()) {
            case StatementDetail.Setting s when s.name().equals("search_path") && s.change() == StatementDetail.SettingChange.SET ->
                    searchPath.set(s.values());
            case StatementDetail.Prepare p -> {
                if (preparedVersions < MAX_PREPARED_VERSIONS) {
                    prepared.computeIfAbsent(p.name(), k -> new ArrayList<>(1)).add(p.statement());
                    preparedVersions++;
                }
            }
            default -> {
            }
        }
        if (a.functions().stream().anyMatch(f -> f.name().equals("set_config"))) {
            searchPath.setUnknown(); // only reachable when a policy lifted set_config
        }
    }
}
