package io.pgwarden.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration file (DESIGN §5), as read by {@link ConfigLoader}. Absent
 * sections take the defaults documented in docs/configuration.md; the compact
 * constructors apply them so that nothing downstream has to handle null.
 */
public record GatewayConfig(
        Listen listen,
        Admin admin,
        Store store,
        Vault vault,
        Plugins plugins,
        List<Upstream> upstreams,
        List<Map<String, Object>> authenticators,
        List<Map<String, Object>> approvers,
        List<Policy> policies,
        Audit audit,
        Recording recording,
        Limits limits,
        Session session,
        Masking masking) {

    public GatewayConfig {
        listen = listen != null ? listen : new Listen(null, null, null, null);
        admin = admin != null ? admin : new Admin(null, null, null, null, null);
        store = store != null ? store : new Store(null);
        vault = vault != null ? vault : new Vault(null, null);
        plugins = plugins != null ? plugins : new Plugins(null);
        upstreams = upstreams != null ? List.copyOf(upstreams) : List.of();
        authenticators = authenticators != null ? List.copyOf(authenticators) : List.of();
        approvers = approvers != null ? List.copyOf(approvers) : List.of();
        policies = policies != null ? List.copyOf(policies) : List.of();
        audit = audit != null ? audit : new Audit(null, null, null, null);
        recording = recording != null ? recording : new Recording(null, null, null, null, null);
        session = session != null ? session : new Session(null);
        limits = limits != null ? limits : new Limits(null, null, null, null, null, null);
        masking = masking != null ? masking : new Masking(null);
    }

    /**
     * @param eventLoops network threads; each session lives on one. The default, half the
     *                   cores (at least one), leaves room for a database on the same machine;
     *                   a dedicated gateway host may use as many as it has cores.
     */
    public record Listen(String host, Integer port, ListenTls tls, @JsonProperty("event_loops") Integer eventLoops) {
        public Listen {
            host = host != null ? host : "127.0.0.1";
            port = port != null ? port : 6432;
            tls = tls != null ? tls : new ListenTls(null, null, null);
            eventLoops = eventLoops != null ? eventLoops : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        }
    }

    /** How the gateway offers TLS to clients. */
    public enum ClientTlsMode {
        /** Plaintext only. Credentials then cross the network in the clear: a warning is logged at start. */
        @JsonProperty("disable") DISABLE,
        /** TLS is offered; a plaintext client is refused before it is asked for a credential. */
        @JsonProperty("prefer") PREFER,
        /** A plaintext startup is refused at once. */
        @JsonProperty("require") REQUIRE
    }

    public record ListenTls(ClientTlsMode mode, Path cert, Path key) {
        public ListenTls {
            mode = mode != null ? mode : ClientTlsMode.PREFER;
        }
    }

    /**
     * The admin API. {@code credential_file} is where the running gateway writes the API's
     * address and a fresh random token (owner-only permissions) for the CLI on this machine.
     * {@code public_url} is how approvers' browsers reach the admin page (links in approval
     * notifications); by default the address it listens on.
     */
    public record Admin(String host, Integer port, @JsonProperty("credential_file") Path credentialFile,
                        @JsonProperty("public_url") java.net.URI publicUrl, AdminOidc oidc) {
        public Admin {
            host = host != null ? host : "127.0.0.1";
            port = port != null ? port : 8080;
            credentialFile = credentialFile != null ? credentialFile : Path.of("./data/admin-credential.json");
        }
    }

    /**
     * OIDC login for people on the admin page (authorization code with PKCE), besides local
     * admin users. Only identities named in {@code names} or holding one of {@code groups} may
     * log in: an identity provider usually knows far more people than should approve.
     *
     * @param clientSecretEnv environment variable with the client's secret; absent for a public client
     * @param nameClaim       the claim that names the person (recorded as the decider)
     * @param groupsClaim     the claim with the person's groups (a list of strings)
     */
    public record AdminOidc(
            java.net.URI issuer,
            @JsonProperty("client_id") String clientId,
            @JsonProperty("client_secret_env") String clientSecretEnv,
            @JsonProperty("name_claim") String nameClaim,
            @JsonProperty("groups_claim") String groupsClaim,
            List<String> groups,
            List<String> names) {
        public AdminOidc {
            nameClaim = nameClaim != null ? nameClaim : "preferred_username";
            groupsClaim = groupsClaim != null ? groupsClaim : "groups";
            groups = groups != null ? List.copyOf(groups) : List.of();
            names = names != null ? List.copyOf(names) : List.of();
        }
    }

    public record Store(String url) {
        public Store {
            url = url != null ? url : "jdbc:h2:file:./data/pgwarden";
        }
    }

    /**
     * Where the vault's master key comes from (docs/vault-and-jit.md).
     *
     * @param keyFile a file holding the key in base64, created on first start when absent
     * @param keyEnv  the name of an environment variable holding the key in base64; when set,
     *                it is used instead of {@code key_file}
     */
    public record Vault(@JsonProperty("key_file") Path keyFile, @JsonProperty("key_env") String keyEnv) {
        public Vault {
            keyFile = keyFile != null ? keyFile : Path.of("./data/vault.key");
        }
    }

    /** {@code dir} unset means the plugins bundled with the distribution. */
    public record Plugins(Path dir) {
    }

    /** How the gateway secures its own connection to an upstream (libpq's sslmode values). */
    public enum UpstreamTlsMode {
        @JsonProperty("disable") DISABLE,
        @JsonProperty("prefer") PREFER,
        @JsonProperty("require") REQUIRE,
        @JsonProperty("verify-full") VERIFY_FULL
    }

    public record Upstream(
            String name,
            String host,
            Integer port,
            String database,
            UpstreamTlsMode tls,
            @JsonProperty("tls_root_cert") Path tlsRootCert,
            Credential credential,
            Jit jit,
            @JsonProperty("connect_timeout") Duration connectTimeout) {
        public Upstream {
            host = host != null ? host : "127.0.0.1";
            port = port != null ? port : 5432;
            database = database != null ? database : name;
            tls = tls != null ? tls : UpstreamTlsMode.PREFER;
            jit = jit != null ? jit : new Jit(null, null, null, null);
            connectTimeout = connectTimeout != null ? connectTimeout : Duration.ofSeconds(10);
        }
    }

    /** The gateway's own login to an upstream; exactly one way of giving the password. */
    public record Credential(
            String user,
            @JsonProperty("password_ref") String passwordRef,
            @JsonProperty("password_env") String passwordEnv,
            String password) {

        /** Keeps the password out of every log line and error message. */
        @Override
        public String toString() {
            return "Credential[user=" + user + ", passwordRef=" + passwordRef + ", passwordEnv=" + passwordEnv
                    + (password != null ? ", password=<set>" : "") + "]";
        }
    }

    /**
     * Just-in-time roles (docs/vault-and-jit.md): each session runs as a role made for it,
     * member of {@code grant_roles}, that expires after {@code role_ttl} and is dropped when
     * the session ends.
     */
    public record Jit(
            Boolean enabled,
            @JsonProperty("role_ttl") Duration roleTtl,
            @JsonProperty("grant_roles") List<String> grantRoles,
            @JsonProperty("role_prefix") String rolePrefix) {
        public Jit {
            enabled = enabled != null && enabled;
            roleTtl = roleTtl != null ? roleTtl : Duration.ofHours(1);
            grantRoles = grantRoles != null ? List.copyOf(grantRoles) : List.of();
            rolePrefix = rolePrefix != null ? rolePrefix : "pgw_";
        }
    }

    public record Policy(
            String name,
            Match match,
            String upstream,
            Allow allow,
            Deny deny,
            List<MaskRule> mask,
            String maskPredicates,
            List<ApproveRule> approve,
            @JsonProperty("grant_roles") List<String> grantRoles) {
        public Policy {
            maskPredicates = maskPredicates != null ? maskPredicates : "allow";
            grantRoles = grantRoles != null ? List.copyOf(grantRoles) : null;
            match = match != null ? match : new Match(null, null);
            allow = allow != null ? allow : new Allow(null, null, null);
            deny = deny != null ? deny : new Deny(null, null, null);
            mask = mask != null ? List.copyOf(mask) : List.of();
            approve = approve != null ? List.copyOf(approve) : List.of();
        }
    }

    public record Match(List<String> groups, List<String> names) {
        public Match {
            groups = groups != null ? List.copyOf(groups) : List.of();
            names = names != null ? List.copyOf(names) : List.of();
        }
    }

    /**
     * What a policy's sessions may do (docs/policy.md). Absent {@code commands} and
     * {@code relations} allow everything but the built-in deny list; {@code functions} only
     * lifts built-in denies, by name.
     */
    public record Allow(List<String> commands, List<String> relations, List<String> functions) {
        public Allow {
            commands = commands != null ? List.copyOf(commands) : List.of("ALL");
            relations = relations != null ? List.copyOf(relations) : List.of("*");
            functions = functions != null ? List.copyOf(functions) : List.of();
        }
    }

    public record Deny(List<String> commands, List<String> relations, List<String> functions) {
        public Deny {
            commands = commands != null ? List.copyOf(commands) : List.of();
            relations = relations != null ? List.copyOf(relations) : List.of();
            functions = functions != null ? List.copyOf(functions) : List.of();
        }
    }

    public record MaskRule(String column, List<String> detect, String masker) {
        public MaskRule {
            detect = detect != null ? List.copyOf(detect) : List.of();
        }
    }

    /**
     * A rule that holds matching statements for a person's decision (docs/approvals.md).
     *
     * @param approvers approver instances (by name, else type) that are told of a request
     * @param timeout   how long a request waits before the statement is refused
     * @param mode      {@code hold}: the client waits; {@code ticket}: it is refused at once with the
     *                  request id and, once approved, the same statement runs once within {@code validity}
     * @param validity  ticket mode: how long an approval may be used
     */
    public record ApproveRule(ApproveWhen when, List<String> approvers, Duration timeout, ApprovalMode mode, Duration validity) {
        public ApproveRule {
            approvers = approvers != null ? List.copyOf(approvers) : List.of();
            timeout = timeout != null ? timeout : Duration.ofMinutes(10);
            mode = mode != null ? mode : ApprovalMode.HOLD;
            validity = validity != null ? validity : Duration.ofHours(1);
        }
    }

    public enum ApprovalMode {
        @JsonProperty("hold") HOLD,
        @JsonProperty("ticket") TICKET
    }

    /**
     * When a statement needs approval: every condition given must hold (a list holds when any
     * of its entries does); at least one condition is required.
     *
     * @param estimatedRowsOver the planner's row estimate (EXPLAIN on the gateway's own connection)
     *                          is above this; a statement it cannot estimate counts as above
     */
    public record ApproveWhen(
            List<String> commands,
            @JsonProperty("without_where") Boolean withoutWhere,
            List<String> relations,
            List<String> functions,
            Boolean ddl,
            @JsonProperty("estimated_rows_over") Integer estimatedRowsOver) {
        public ApproveWhen {
            commands = commands != null ? List.copyOf(commands) : List.of();
            withoutWhere = withoutWhere != null && withoutWhere;
            relations = relations != null ? List.copyOf(relations) : List.of();
            functions = functions != null ? List.copyOf(functions) : List.of();
            ddl = ddl != null && ddl;
        }

        public boolean empty() {
            return commands.isEmpty() && !withoutWhere && relations.isEmpty() && functions.isEmpty() && !ddl
                    && estimatedRowsOver == null;
        }
    }

    /**
     * The audit trail (docs/audit.md).
     *
     * @param sinks          audit sink plugin instances, fed from the store
     * @param redactLiterals store statements with their literals replaced by $1, $2, …
     * @param gatewayId      written into every audit record; default: the host's name
     * @param fsync          force every group commit to the disk (default): records survive a power
     *                       failure; off, they survive the gateway being killed, not the machine
     */
    public record Audit(
            List<Map<String, Object>> sinks,
            @JsonProperty("redact_literals") Boolean redactLiterals,
            @JsonProperty("gateway_id") String gatewayId,
            Boolean fsync) {
        public Audit {
            sinks = sinks != null ? List.copyOf(sinks) : List.of();
            redactLiterals = redactLiterals != null && redactLiterals;
            fsync = fsync == null || fsync;
        }
    }

    /**
     * Session recording (docs/recording.md).
     *
     * @param enabled          record every session: statements, parameters, decisions and what the client received
     * @param maxRowsPerResult rows (and COPY rows) of one result kept in the recording; the rest are counted
     * @param retention        recordings of sessions that ended longer ago are deleted
     * @param buffer           bytes of captured events that may wait for the recording writer
     * @param onOverflow       {@code drop} (the default: events are dropped, the recording and the audit trail say so)
     *                         or {@code block} (the session waits for the writer)
     */
    public record Recording(
            Boolean enabled,
            @JsonProperty("max_rows_per_result") Integer maxRowsPerResult,
            Duration retention,
            Long buffer,
            @JsonProperty("on_overflow") String onOverflow) {
        public static final String DROP = "drop";
        public static final String BLOCK = "block";

        public Recording {
            enabled = enabled != null && enabled;
            maxRowsPerResult = maxRowsPerResult != null ? maxRowsPerResult : 100;
            retention = retention != null ? retention : Duration.ofDays(30);
            buffer = buffer != null ? buffer : 64L << 20;
            onOverflow = onOverflow != null ? onOverflow : DROP;
        }
    }

    /**
     * How long an agent's session may last.
     *
     * @param maxLifetime {@code token} (the default): a session ends when the token it was
     *                    opened with expires (a key-authenticated session has no limit); or a
     *                    duration such as {@code 8h}: every session ends that long after it opened
     */
    public record Session(@JsonProperty("max_lifetime") String maxLifetime) {
        public static final String TOKEN = "token";

        public Session {
            maxLifetime = maxLifetime != null ? maxLifetime : TOKEN;
        }

        /** The fixed lifetime, or empty when sessions live as long as their token. */
        public java.util.Optional<Duration> fixedLifetime() {
            return maxLifetime.equals(TOKEN) ? java.util.Optional.empty() : java.util.Optional.of(Durations.parse(maxLifetime));
        }
    }

    /** Protection of the gateway itself against slow, idle, hostile or oversized clients. */
    public record Limits(
            @JsonProperty("max_message_size") Long maxMessageSize,
            @JsonProperty("startup_timeout") Duration startupTimeout,
            @JsonProperty("idle_timeout") Duration idleTimeout,
            @JsonProperty("shutdown_grace") Duration shutdownGrace,
            @JsonProperty("auth_failures_per_minute") Integer authFailuresPerMinute,
            @JsonProperty("max_connections") Integer maxConnections) {
        public Limits {
            maxMessageSize = maxMessageSize != null ? maxMessageSize : 64L << 20;
            startupTimeout = startupTimeout != null ? startupTimeout : Duration.ofSeconds(15);
            idleTimeout = idleTimeout != null ? idleTimeout : Duration.ofHours(1);
            shutdownGrace = shutdownGrace != null ? shutdownGrace : Duration.ofSeconds(30);
            authFailuresPerMinute = authFailuresPerMinute != null ? authFailuresPerMinute : 10;
            maxConnections = maxConnections != null ? maxConnections : 2000;
        }
    }

    /**
     * The masker instances policies' {@code mask} rules name (docs/maskers.md).
     *
     * @param maskers each a {@code type} (built in: redact, email, partial, hash, null; or a
     *                plugin's), an optional {@code name} (default: the type) and the type's options
     */
    public record Masking(List<Map<String, Object>> maskers) {
        public Masking {
            maskers = maskers != null ? List.copyOf(maskers) : List.of();
        }
    }
}
