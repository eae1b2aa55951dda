package io.pgwarden.policy;

import io.pgwarden.analysis.Command;
import io.pgwarden.config.GatewayConfig.Policy;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A policy's allow and deny lists, ready for matching; built once per policy at start-up
 * and shared by its sessions.
 */
final class CompiledPolicy {

    /**
     * Commands that only steer the session or wrap another statement (whose own commands are
     * checked): every policy allows them unless {@code deny.commands} names them.
     */
    static final Set<Command> SESSION_COMMANDS = EnumSet.of(Command.TRANSACTION, Command.SET, Command.RESET,
            Command.SHOW, Command.PREPARE, Command.EXECUTE, Command.DEALLOCATE, Command.DECLARE, Command.FETCH,
            Command.CLOSE, Command.EXPLAIN, Command.DISCARD, Command.LISTEN, Command.UNLISTEN);

    final String name;
    final boolean allCommands;
    final Set<Command> allowedCommands;
    final Set<Command> deniedCommands;
    final boolean allRelations;
    final List<NamePattern> allowedRelations;
    /** allow.relations entries without a wildcard: the only way to lift a built-in relation deny. */
    final Set<String> namedRelations;
    final List<NamePattern> deniedRelations;
    final List<NamePattern> allowedFunctions;
    final List<NamePattern> deniedFunctions;

    final io.pgwarden.masking.MaskRules mask;

    CompiledPolicy(Policy policy) {
        this(policy, io.pgwarden.masking.MaskRules.Resolver.NONE);
    }

    CompiledPolicy(Policy policy, io.pgwarden.masking.MaskRules.Resolver maskers) {
        this.mask = io.pgwarden.masking.MaskRules.compile(policy, maskers);
        this.name = policy.name();
        this.allCommands = policy.allow().commands().contains("ALL");
        this.allowedCommands = commands(policy.allow().commands());
        this.deniedCommands = commands(policy.deny().commands());
        this.allRelations = policy.allow().relations().contains("*") || policy.allow().relations().contains("*.*");
        this.allowedRelations = policy.allow().relations().stream().map(NamePattern::of).toList();
        this.namedRelations = policy.allow().relations().stream().filter(r -> !r.contains("*")).collect(Collectors.toSet());
        this.deniedRelations = policy.deny().relations().stream().map(NamePattern::of).toList();
        this.allowedFunctions = policy.allow().functions().stream().map(NamePattern::of).toList();
        this.deniedFunctions = policy.deny().functions().stream().map(NamePattern::of).toList();
    }

    private static Set<Command> commands(List<String> names) {
        Set<Command> set = EnumSet.noneOf(Command.class);
        for (String n : names) {
            if (!n.equals("ALL")) {
                set.add(Command.valueOf(n.toUpperCase(Locale.ROOT)));
            }
        }
        return set;
    }

    /** For hints: what the policy allows, in its own words. */
    String allowedCommandsText() {
        return allCommands ? "ALL" : allowedCommands.stream().map(Enum::name).collect(Collectors.joining(", "));
    }

    String allowedRelationsText() {
        return allowedRelations.stream().map(NamePattern::text).collect(Collectors.joining(", "));
    }
}
