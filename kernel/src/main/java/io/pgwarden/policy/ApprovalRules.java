package io.pgwarden.policy;

import io.pgwarden.analysis.AnalyzedStatement;
import io.pgwarden.analysis.Command;
import io.pgwarden.analysis.FunctionRef;
import io.pgwarden.analysis.RelationRef;
import io.pgwarden.analysis.StatementAnalysis;
import io.pgwarden.config.GatewayConfig.ApproveRule;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * A policy's {@code approve} rules, compiled once: which statements wait for a person. Pure:
 * analysis in, matching rules out. A relation or function named without a schema matches a
 * pattern when it may resolve to it (a hold too many rather than one too few).
 */
final class ApprovalRules {

    private record Rule(String at, ApproveRule config, Set<Command> commands, List<NamePattern> relations,
                        List<NamePattern> functions) {
    }

    private final List<Rule> rules;

    ApprovalRules(int policyIndex, List<ApproveRule> configured) {
        List<Rule> compiled = new ArrayList<>();
        for (int i = 0; i < configured.size(); i++) {
            ApproveRule r = configured.get(i);
            Set<Command> commands = EnumSet.noneOf(Command.class);
            for (String c : r.when().commands()) {
                if (c.equals("ALL")) {
                    commands.addAll(EnumSet.allOf(Command.class));
                } else {
                    commands.add(Command.valueOf(c.toUpperCase(Locale.ROOT)));
                }
            }
            compiled.add(new Rule("policies[" + policyIndex + "].approve[" + i + "]", r, commands,
                    r.when().relations().stream().map(NamePattern::of).toList(),
                    r.when().functions().stream().map(NamePattern::of).toList()));
        }
        this.rules = List.copyOf(compiled);
    }

    boolean isEmpty() {
        return rules.isEmpty();
    }

    /**
     * The rules that match, in configured order. {@code prepared} gives, for an EXECUTE of a
     * SQL-level prepared statement, the analyses of what was PREPAREd under its name; PREPARE
     * itself runs nothing and is not held.
     */
    List<ApprovalMatch> match(List<AnalyzedStatement> statements, Function<String, List<StatementAnalysis>> prepared) {
        List<ApprovalMatch> matches = new ArrayList<>();
        for (Rule rule : rules) {
            List<String> whys = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            for (AnalyzedStatement s : statements) {
                List<StatementAnalysis> runs = new ArrayList<>();
                if (s.analysis().command() != Command.PREPARE) {
                    runs.add(s.analysis());
                }
                s.analysis().preparedStatement().ifPresent(name -> runs.addAll(prepared.apply(name)));
                for (StatementAnalysis a : runs) {
                    String why = matches(rule, a);
                    if (why != null) {
                        whys.add(why);
                        texts.add(s.text().strip());
                        break;
                    }
                }
            }
            if (!whys.isEmpty()) {
                var c = rule.config();
                matches.add(new ApprovalMatch(rule.at(), String.join("; ", whys), c.approvers(), c.timeout(), c.mode(),
                        c.validity(), c.when().estimatedRowsOver() == null ? -1 : c.when().estimatedRowsOver(), texts));
            }
        }
        return matches;
    }

    /** Why the rule matches the statement, or null when it does not: every condition given must hold. */
    private static String matches(Rule rule, StatementAnalysis a) {
        var when = rule.config().when();
        List<String> why = new ArrayList<>();
        Command command = a.command();
        if (!rule.commands().isEmpty()) {
            var hit = a.commands().stream().filter(rule.commands()::contains).findFirst();
            if (hit.isEmpty()) {
                return null;
            }
            command = hit.get();
        }
        why.add(command.name());
        if (when.withoutWhere()) {
            if (!a.has(StatementAnalysis.Flag.NO_WHERE)) {
                return null;
            }
            why.add("without WHERE");
        }
        if (when.ddl() && !a.has(StatementAnalysis.Flag.DDL)) {
            return null; // the command's name (DDL, GRANT, ROLE_ADMIN) already says what it is
        }
        if (!rule.relations().isEmpty()) {
            RelationRef hit = a.relations().stream().filter(r -> rule.relations().stream().anyMatch(p ->
                    r.schema() == null ? p.matchesInSomeSchema(r.name()) : p.matches(r.schema(), r.name()))).findFirst().orElse(null);
            if (hit == null) {
                return null;
            }
            why.add("on " + hit.qualifiedName());
        } else if (!a.relations().isEmpty()) {
            why.add("on " + a.relations().getFirst().qualifiedName());
        }
        if (!rule.functions().isEmpty()) {
            FunctionRef hit = a.functions().stream().filter(f -> rule.functions().stream().anyMatch(p ->
                    f.schema() == null ? p.matchesInSomeSchema(f.name()) : p.matches(f.schema(), f.name()))).findFirst().orElse(null);
            if (hit == null) {
                return null;
            }
            why.add("calling " + hit.qualifiedName());
        }
        if (when.estimatedRowsOver() != null) {
            why.add("estimated over " + when.estimatedRowsOver() + " rows");
        }
        return String.join(" ", why);
    }
}
