package io.pgwarden.config;

import io.pgwarden.config.GatewayConfig.ApproveRule;
import io.pgwarden.config.GatewayConfig.Credential;
import io.pgwarden.config.GatewayConfig.MaskRule;
import io.pgwarden.config.GatewayConfig.Policy;
import io.pgwarden.config.GatewayConfig.Upstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks that span keys or need more than a type: references between sections, value
 * ranges, files that must exist. Reports every problem it finds, each with its key path.
 */
final class ConfigValidator {

    /** The command classes a policy may name: the analysis' commands, and ALL. */
    static final Set<String> COMMANDS = java.util.stream.Stream.concat(java.util.stream.Stream.of("ALL"),
            java.util.Arrays.stream(io.pgwarden.analysis.Command.values()).map(Enum::name)).collect(java.util.stream.Collectors.toUnmodifiableSet());
    private static final Pattern RELATION_PATTERN = Pattern.compile("[A-Za-z0-9_*$]+(\\.[A-Za-z0-9_*$]+)?");
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z0-9_$]+\\.[A-Za-z0-9_$]+\\.[A-Za-z0-9_$]+");
    private static final Pattern FUNCTION_PATTERN = Pattern.compile("[A-Za-z0-9_*$]+(\\.[A-Za-z0-9_*$]+)?");
    private static final Pattern VAULT_REF = Pattern.compile("vault:[A-Za-z0-9_.\\-]+");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern ROLE_PREFIX = Pattern.compile("[a-z_][a-z0-9_]{0,19}");

    private final List<String> problems = new ArrayList<>();
    private final Path baseDir;

    private ConfigValidator(Path baseDir) {
        this.baseDir = baseDir;
    }

    static List<String> validate(GatewayConfig config, Path baseDir) {
        ConfigValidator v = new ConfigValidator(baseDir);
        v.listen(config);
        v.vault(config.vault());
        Set<String> upstreamNames = v.upstreams(config.upstreams());
        v.pluginEntries("authenticators", config.authenticators(), true);
        Set<String> approverNames = v.pluginEntries("approvers", config.approvers(), false);
        approverNames.add("web"); // the admin page's inbox is always there, configured or not
        v.policies(config.policies(), upstreamNames, approverNames);
        v.policyGrantRoles(config.policies(), config.upstreams());
        v.pluginEntries("audit.sinks", config.audit().sinks(), false);
        v.pluginEntries("masking.maskers", config.masking().maskers(), false);
        v.audit(config.audit());
        v.limits(config.limits());
        v.session(config.session());
        v.recording(config.recording());
        return List.copyOf(v.problems);
    }

    private void recording(GatewayConfig.Recording recording) {
        if (recording.maxRowsPerResult() < 0 || recording.maxRowsPerResult() > 1_000_000) {
            problem("recording.max_rows_per_result", "must be between 0 and 1000000");
        }
        if (recording.retention().isNegative() || recording.retention().isZero()) {
            problem("recording.retention", "must be longer than zero (such as 30d)");
        }
        if (recording.buffer() < (1 << 20) || recording.buffer() > (1L << 30)) {
            problem("recording.buffer", "must be between 1MiB and 1GiB");
        }
        if (!recording.onOverflow().equals(GatewayConfig.Recording.DROP) && !recording.onOverflow().equals(GatewayConfig.Recording.BLOCK)) {
            problem("recording.on_overflow", "must be drop or block, not \"" + recording.onOverflow() + "\"");
        }
    }

    private void problem(String path, String message) {
        problems.add(path + ": " + message);
    }

    private void listen(GatewayConfig config) {
        port("listen.port", config.listen().port());
        port("admin.port", config.admin().port());
        java.net.URI publicUrl = config.admin().publicUrl();
        if (publicUrl != null && (publicUrl.getHost() == null
                || !("http".equals(publicUrl.getScheme()) || "https".equals(publicUrl.getScheme())))) {
            problem("admin.public_url", "must be an absolute http(s) URL such as https://pgwarden.example.com:8080");
        }
        var oidc = config.admin().oidc();
        if (oidc != null) {
            java.net.URI issuer = oidc.issuer();
            boolean loopback = issuer != null && issuer.getHost() != null
                    && (issuer.getHost().equals("localhost") || issuer.getHost().equals("127.0.0.1") || issuer.getHost().equals("[::1]"));
            if (issuer == null || issuer.getHost() == null
                    || !("https".equals(issuer.getScheme()) || "http".equals(issuer.getScheme()) && loopback)) {
                problem("admin.oidc.issuer", "must be the identity provider's https URL (http only on localhost)");
            }
            if (oidc.clientId() == null || oidc.clientId().isBlank()) {
                problem("admin.oidc.client_id", "is required");
            }
            if (oidc.clientSecretEnv() != null && !ENV_NAME.matcher(oidc.clientSecretEnv()).matches()) {
                problem("admin.oidc.client_secret_env", "\"" + oidc.clientSecretEnv() + "\" is not an environment variable name");
            }
            if (oidc.groups().isEmpty() && oidc.names().isEmpty()) {
                problem("admin.oidc", "name the groups or names (or both) that may log in; the provider's every user would otherwise be an admin");
            }
        }
        if (config.listen().eventLoops() < 1 || config.listen().eventLoops() > 256) {
            problem("listen.event_loops", "must be between 1 and 256");
        }
        var tls = config.listen().tls();
        if ((tls.cert() == null) != (tls.key() == null)) {
            problem("listen.tls", "cert and key go together: give both, or neither for a generated self-signed certificate");
        }
        existingFile("listen.tls.cert", tls.cert());
        existingFile("listen.tls.key", tls.key());
    }

    private Set<String> upstreams(List<Upstream> upstreams) {
        Set<String> names = new HashSet<>();
        if (upstreams.isEmpty()) {
            problem("upstreams", "at least one upstream is required");
        }
        for (int i = 0; i < upstreams.size(); i++) {
            Upstream u = upstreams.get(i);
            String at = "upstreams[" + i + "]";
            if (u.name() == null || u.name().isBlank()) {
                problem(at + ".name", "is required");
            } else if (!names.add(u.name())) {
                problem(at + ".name", "\"" + u.name() + "\" is used by another upstream");
            }
            port(at + ".port", u.port());
            if (u.port() == 0) {
                problem(at + ".port", "must be the upstream's real port");
            }
            existingFile(at + ".tls_root_cert", u.tlsRootCert());
            if (u.host().startsWith("/") && (u.tls() == GatewayConfig.UpstreamTlsMode.REQUIRE
                    || u.tls() == GatewayConfig.UpstreamTlsMode.VERIFY_FULL)) {
                problem(at + ".tls", "a Unix-domain socket (host " + u.host() + ") carries no TLS; use disable or prefer");
            }
            credential(at + ".credential", u.credential());
            if (u.jit().enabled() && u.jit().grantRoles().isEmpty()) {
                problem(at + ".jit.grant_roles", "name at least one role for the session's role to be granted");
            }
            roleNames(at + ".jit.grant_roles", u.jit().grantRoles());
            positive(at + ".jit.role_ttl", u.jit().roleTtl());
            if (!ROLE_PREFIX.matcher(u.jit().rolePrefix()).matches()) {
                problem(at + ".jit.role_prefix", "must be lower-case letters, digits and _ (at most 20), starting with a letter or _");
            }
            positive(at + ".connect_timeout", u.connectTimeout());
        }
        return names;
    }

    /** Role names are quoted when used, so any name PostgreSQL accepts is fine: 1 to 63 bytes, no NUL. */
    private void roleNames(String at, List<String> roles) {
        for (int i = 0; i < roles.size(); i++) {
            String r = roles.get(i);
            if (r == null || r.isEmpty() || r.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63 || r.indexOf('\0') >= 0) {
                problem(at + "[" + i + "]", "must be a role name of 1 to 63 bytes");
            }
        }
    }

    private void vault(GatewayConfig.Vault vault) {
        if (vault.keyEnv() != null && !ENV_NAME.matcher(vault.keyEnv()).matches()) {
            problem("vault.key_env", "\"" + vault.keyEnv() + "\" is not an environment variable name");
        }
    }

    private void credential(String at, Credential c) {
        if (c == null) {
            problem(at, "is required (user, and one of password_ref, password_env, password)");
            return;
        }
        if (c.user() == null || c.user().isBlank()) {
            problem(at + ".user", "is required");
        }
        int given = (c.passwordRef() != null ? 1 : 0) + (c.passwordEnv() != null ? 1 : 0) + (c.password() != null ? 1 : 0);
        if (given != 1) {
            problem(at, "give exactly one of password_ref, password_env, password (found " + given + ")");
        }
        if (c.passwordRef() != null && !VAULT_REF.matcher(c.passwordRef()).matches()) {
            problem(at + ".password_ref", "must look like vault:NAME");
        }
        if (c.passwordEnv() != null && !ENV_NAME.matcher(c.passwordEnv()).matches()) {
            problem(at + ".password_env", "\"" + c.passwordEnv() + "\" is not an environment variable name");
        }
    }

    /** Plugin entries are maps for their plugin to check; here only {@code type} and {@code name}. */
    private Set<String> pluginEntries(String section, List<Map<String, Object>> entries, boolean required) {
        Set<String> names = new HashSet<>();
        if (required && entries.isEmpty()) {
            problem(section, "at least one is required");
        }
        for (int i = 0; i < entries.size(); i++) {
            String at = section + "[" + i + "]";
            Map<String, Object> entry = entries.get(i);
            if (entry == null) {
                problem(at, "must be a mapping with a type");
                continue;
            }
            if (!(entry.get("type") instanceof String type) || type.isBlank()) {
                problem(at + ".type", "is required");
                continue;
            }
            Object name = entry.getOrDefault("name", type);
            if (!(name instanceof String n) || n.isBlank()) {
                problem(at + ".name", "must be a non-empty string");
            } else if (!names.add(n)) {
                problem(at + (entry.containsKey("name") ? ".name" : ".type"),
                        "\"" + n + "\" names another entry too; give each a distinct name");
            }
        }
        return names;
    }

    private void policies(List<Policy> policies, Set<String> upstreams, Set<String> approvers) {
        if (policies.isEmpty()) {
            problem("policies", "at least one policy is required (an identity that no policy matches is refused)");
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < policies.size(); i++) {
            Policy p = policies.get(i);
            String at = "policies[" + i + "]";
            if (p.name() == null || p.name().isBlank()) {
                problem(at + ".name", "is required");
            } else if (!names.add(p.name())) {
                problem(at + ".name", "\"" + p.name() + "\" is used by another policy");
            }
            if (p.match().groups().isEmpty() && p.match().names().isEmpty()) {
                problem(at + ".match", "name groups or names (or both); an empty match would match nobody");
            }
            if (p.upstream() == null) {
                problem(at + ".upstream", "is required");
            } else if (!upstreams.contains(p.upstream())) {
                problem(at + ".upstream", "no upstream is named \"" + p.upstream() + "\"");
            }
            commands(at + ".allow.commands", p.allow().commands());
            commands(at + ".deny.commands", p.deny().commands());
            if (p.deny().commands().contains("ALL")) {
                problem(at + ".deny.commands", "ALL would refuse every statement; list the commands to refuse");
            }
            patterns(at + ".allow.relations", p.allow().relations(), RELATION_PATTERN, "[schema.]table, * as a wildcard");
            patterns(at + ".allow.functions", p.allow().functions(), FUNCTION_PATTERN, "[schema.]function, * as a wildcard");
            patterns(at + ".deny.relations", p.deny().relations(), RELATION_PATTERN, "[schema.]table, * as a wildcard");
            patterns(at + ".deny.functions", p.deny().functions(), FUNCTION_PATTERN, "[schema.]function, * as a wildcard");
            if (!Set.of("allow", "deny").contains(p.maskPredicates())) {
                problem(at + ".mask_predicates", "must be allow or deny, not \"" + p.maskPredicates() + "\"");
            }
            for (int m = 0; m < p.mask().size(); m++) {
                mask(at + ".mask[" + m + "]", p.mask().get(m));
            }
            for (int a = 0; a < p.approve().size(); a++) {
                approve(at + ".approve[" + a + "]", p.approve().get(a), approvers);
            }
        }
    }

    /** A policy's own grant_roles replace its upstream's, so they mean something only with JIT on. */
    private void policyGrantRoles(List<Policy> policies, List<Upstream> upstreams) {
        for (int i = 0; i < policies.size(); i++) {
            Policy p = policies.get(i);
            if (p.grantRoles() == null) {
                continue;
            }
            String at = "policies[" + i + "].grant_roles";
            boolean jit = upstreams.stream().anyMatch(u -> u.name() != null && u.name().equals(p.upstream()) && u.jit().enabled());
            if (!jit) {
                problem(at, "upstream \"" + p.upstream() + "\" does not have jit.enabled: true; sessions there log in as "
                        + "the gateway's credential, which no policy can narrow");
            }
            if (p.grantRoles().isEmpty()) {
                problem(at, "name at least one role (or leave grant_roles out to use the upstream's)");
            }
            roleNames(at, p.grantRoles());
        }
    }

    private void commands(String at, List<String> commands) {
        for (int i = 0; i < commands.size(); i++) {
            if (!COMMANDS.contains(commands.get(i))) {
                problem(at + "[" + i + "]", "unknown command \"" + commands.get(i) + "\" (known: "
                        + String.join(" ", new java.util.TreeSet<>(COMMANDS)) + ")");
            }
        }
    }

    private void patterns(String at, List<String> values, Pattern pattern, String form) {
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) == null || !pattern.matcher(values.get(i)).matches()) {
                problem(at + "[" + i + "]", "\"" + values.get(i) + "\" is not a pattern of the form " + form);
            }
        }
    }

    private void mask(String at, MaskRule rule) {
        boolean column = rule.column() != null;
        boolean detect = !rule.detect().isEmpty();
        if (column == detect) {
            problem(at, "give either column (schema.table.column) or detect (a list of detectors)");
        }
        if (column && !COLUMN.matcher(rule.column()).matches()) {
            problem(at + ".column", "\"" + rule.column() + "\" is not of the form schema.table.column");
        }
        for (int i = 0; i < rule.detect().size(); i++) {
            // Which kinds exist depends on the plugins: checked when they are loaded (run, check-config).
            if (rule.detect().get(i) == null || rule.detect().get(i).isBlank()) {
                problem(at + ".detect[" + i + "]", "name a detector (built in: email, phone, card, ssn, iban)");
            }
        }
        if (rule.masker() == null || rule.masker().isBlank()) {
            problem(at + ".masker", "is required");
        }
    }

    private void approve(String at, ApproveRule rule, Set<String> approvers) {
        if (rule.when() == null) {
            problem(at + ".when", "is required");
        } else {
            if (rule.when().empty()) {
                problem(at + ".when", "give at least one condition (commands, without_where, relations, functions, ddl, "
                        + "estimated_rows_over); a rule that matches everything belongs in deny or allow");
            }
            commands(at + ".when.commands", rule.when().commands());
            patterns(at + ".when.relations", rule.when().relations(), RELATION_PATTERN, "[schema.]table, * as a wildcard");
            patterns(at + ".when.functions", rule.when().functions(), FUNCTION_PATTERN, "[schema.]function, * as a wildcard");
            if (rule.when().estimatedRowsOver() != null && rule.when().estimatedRowsOver() < 0) {
                problem(at + ".when.estimated_rows_over", "must not be negative");
            }
        }
        if (rule.approvers().isEmpty()) {
            problem(at + ".approvers", "name at least one approver");
        }
        for (int i = 0; i < rule.approvers().size(); i++) {
            if (!approvers.contains(rule.approvers().get(i))) {
                problem(at + ".approvers[" + i + "]", "no approver is configured with the type or name \"" + rule.approvers().get(i) + "\"");
            }
        }
        positive(at + ".timeout", rule.timeout());
        positive(at + ".validity", rule.validity());
    }

    private void audit(GatewayConfig.Audit audit) {
        String id = audit.gatewayId();
        if (id != null && (id.isBlank() || id.length() > 255 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            problem("audit.gateway_id", "must be 1 to 255 printable ASCII characters without spaces");
        }
    }

    private void session(GatewayConfig.Session session) {
        try {
            session.fixedLifetime().ifPresent(d -> positive("session.max_lifetime", d));
        } catch (IllegalArgumentException e) {
            problem("session.max_lifetime", "must be \"token\" or a duration such as 8h (" + e.getMessage() + ")");
        }
    }

    private void limits(GatewayConfig.Limits limits) {
        if (limits.maxMessageSize() < 8192 || limits.maxMessageSize() > (1L << 30)) {
            problem("limits.max_message_size", "must be between 8KiB and 1GiB");
        }
        positive("limits.startup_timeout", limits.startupTimeout());
        if (limits.idleTimeout().isNegative()) {
            problem("limits.idle_timeout", "must not be negative (0s turns it off)");
        }
        if (limits.shutdownGrace().isNegative()) {
            problem("limits.shutdown_grace", "must not be negative");
        }
        if (limits.authFailuresPerMinute() < 1) {
            problem("limits.auth_failures_per_minute", "must be at least 1");
        }
        if (limits.maxConnections() < 1) {
            problem("limits.max_connections", "must be at least 1");
        }
    }

    private void port(String at, int port) {
        if (port < 0 || port > 65535) {
            problem(at, port + " is not a TCP port (0-65535; 0 picks a free one)");
        }
    }

    private void positive(String at, Duration d) {
        if (d.isZero() || d.isNegative()) {
            problem(at, "must be longer than zero");
        }
    }

    private void existingFile(String at, Path path) {
        if (path != null && !Files.isRegularFile(baseDir.resolve(path))) {
            problem(at, "no such file: " + baseDir.resolve(path).normalize());
        }
    }
}
