package io.pgwarden.plugin;

import io.pgwarden.approval.NamedApprover;
import io.pgwarden.audit.NamedSink;
import io.pgwarden.auth.AuthenticatorChain;
import io.pgwarden.config.GatewayConfig;
import io.pgwarden.masking.MaskerRegistry;
import io.pgwarden.plugin.api.ApproverFactory;
import io.pgwarden.plugin.api.AuditSinkFactory;
import io.pgwarden.plugin.api.AuthenticatorFactory;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PiiDetector;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ManifestPluginDescriptorFinder;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the PF4J plugins in {@code plugins.dir} and builds the configured plugin
 * instances from their factories. Anything that does not load is a start-up error that
 * names the file or plugin: a gateway missing its authenticator must not start.
 */
public final class PluginHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PluginHost.class);

    private final PluginManager manager;
    private final Path directory;

    private PluginHost(PluginManager manager, Path directory) {
        this.manager = manager;
        this.directory = directory;
    }

    public static PluginHost start(Path directory) throws PluginLoadException {
        if (!Files.isDirectory(directory)) {
            throw new PluginLoadException("plugins.dir: " + directory + " is not a directory");
        }
        PluginManager manager = new DefaultPluginManager(directory) {
            @Override
            public org.pf4j.RuntimeMode getRuntimeMode() {
                return org.pf4j.RuntimeMode.DEPLOYMENT;
            }
        };
        manager.loadPlugins();
        manager.startPlugins();
        PluginHost host = new PluginHost(manager, directory);
        try {
            host.checkEverythingLoaded();
        } catch (PluginLoadException e) {
            host.close();
            throw e;
        }
        for (PluginWrapper p : manager.getPlugins()) {
            LOG.info("plugin {} {} loaded from {}", p.getPluginId(), p.getDescriptor().getVersion(), p.getPluginPath());
        }
        return host;
    }

    /** A plugin jar as its manifest describes it, for {@code pgwarden version}. */
    public record Described(String id, String version, Path file) {
    }

    /**
     * The plugins in {@code directory} as their manifests describe them, without loading
     * their classes: what {@code pgwarden version} lists.
     */
    public static List<Described> describe(Path directory) throws PluginLoadException {
        ManifestPluginDescriptorFinder finder = new ManifestPluginDescriptorFinder();
        List<Described> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                try {
                    PluginDescriptor d = finder.find(file);
                    found.add(new Described(d.getPluginId(), d.getVersion(), file));
                } catch (PluginRuntimeException e) {
                    throw new PluginLoadException(file + " is not a pgwarden plugin: " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new PluginLoadException("plugins.dir: " + directory + " cannot be listed: " + e.getMessage());
        }
        return List.copyOf(found);
    }

    private void checkEverythingLoaded() throws PluginLoadException {
        List<String> problems = new ArrayList<>();
        for (PluginWrapper p : manager.getPlugins()) {
            if (p.getPluginState() != PluginState.STARTED) {
                Throwable cause = p.getFailedException();
                problems.add("plugin " + p.getPluginId() + " (" + p.getPluginPath() + ") did not start: state "
                        + p.getPluginState() + (cause != null ? ", " + cause : ""));
            }
        }
        Set<Path> loaded = manager.getPlugins().stream()
                .map(p -> p.getPluginPath().toAbsolutePath().normalize()).collect(Collectors.toSet());
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                boolean candidate = name.endsWith(".jar") || name.endsWith(".zip") || Files.isDirectory(file);
                if (candidate && !name.startsWith(".") && !loaded.contains(file.toAbsolutePath().normalize())
                        && !loaded.contains(stripZip(file))) {
                    problems.add(file + " is not a loadable pgwarden plugin (see the log above for PF4J's reason; "
                            + "a plugin jar needs Plugin-Id and Plugin-Version in its manifest)");
                }
            }
        } catch (IOException e) {
            problems.add("plugins.dir: " + directory + " cannot be listed: " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new PluginLoadException(String.join("\n", problems));
        }
    }

    /** PF4J unpacks a zip plugin into a directory of the same name and loads that. */
    private static Path stripZip(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".zip")
                ? file.resolveSibling(name.substring(0, name.length() - 4)).toAbsolutePath().normalize()
                : file.toAbsolutePath().normalize();
    }

    /** The loaded plugins, for the admin page: id, version, state. */
    public List<Map<String, Object>> describe() {
        return manager.getPlugins().stream().map(p -> Map.<String, Object>of("id", p.getPluginId(),
                "version", p.getDescriptor().getVersion(), "state", p.getPluginState().toString())).toList();
    }

    /** Builds one authenticator per {@code authenticators[]} entry, in order. */
    public AuthenticatorChain authenticators(List<Map<String, Object>> entries, Clock clock, Path baseDirectory)
            throws PluginLoadException {
        Map<String, AuthenticatorFactory> byType = extensions(AuthenticatorFactory.class, AuthenticatorFactory::type,
                "authenticator type", Set.of());
        List<AuthenticatorChain.Named> built = new ArrayList<>();
        try {
            for (int i = 0; i < entries.size(); i++) {
                String at = "authenticators[" + i + "]";
                String type = (String) entries.get(i).get("type");
                AuthenticatorFactory factory = byType.get(type);
                if (factory == null) {
                    throw new PluginLoadException(at + ".type: no plugin provides authenticator type \"" + type
                            + "\" (" + (byType.isEmpty() ? "no authenticator plugins are loaded"
                            : "available: " + String.join(", ", new TreeSet<>(byType.keySet()))) + "; plugins.dir is "
                            + directory + ")");
                }
                try {
                    built.add(new AuthenticatorChain.Named(at + " (" + type + ")",
                            factory.create(new PluginConfig(at, entries.get(i)), new PluginContext(at, clock, baseDirectory))));
                } catch (PluginConfigException e) {
                    throw new PluginLoadException(e.getMessage());
                }
            }
        } catch (PluginLoadException e) {
            new AuthenticatorChain(built).close();
            throw e;
        }
        return new AuthenticatorChain(built);
    }

    /**
     * Builds one audit sink per {@code audit.sinks[]} entry, in order, each named by its
     * {@code name} or else its {@code type} (the configuration checks these are distinct).
     * On an error, the sinks built so far are closed.
     */
    public List<NamedSink> auditSinks(List<Map<String, Object>> entries, Clock clock, Path baseDirectory)
            throws PluginLoadException {
        Map<String, AuditSinkFactory> byType = extensions(AuditSinkFactory.class, AuditSinkFactory::type,
                "audit sink type", Set.of());
        List<NamedSink> built = new ArrayList<>();
        try {
            for (int i = 0; i < entries.size(); i++) {
                String at = "audit.sinks[" + i + "]";
                String type = (String) entries.get(i).get("type");
                AuditSinkFactory factory = byType.get(type);
                if (factory == null) {
                    throw new PluginLoadException(at + ".type: no plugin provides audit sink type \"" + type
                            + "\" (" + (byType.isEmpty() ? "no audit sink plugins are loaded"
                            : "available: " + String.join(", ", new TreeSet<>(byType.keySet()))) + "; plugins.dir is "
                            + directory + ")");
                }
                Object name = entries.get(i).getOrDefault("name", type);
                try {
                    built.add(new NamedSink((String) name, at + " (" + name + ")",
                            factory.create(new PluginConfig(at, entries.get(i)), new PluginContext(at, clock, baseDirectory))));
                } catch (PluginConfigException e) {
                    throw new PluginLoadException(e.getMessage());
                } catch (RuntimeException e) {
                    throw new PluginLoadException(at + ": the " + type + " plugin failed to build this sink: " + e);
                }
            }
        } catch (PluginLoadException e) {
            closeSinks(built);
            throw e;
        }
        return List.copyOf(built);
    }

    /**
     * The maskers and PII detectors: the built-in ones, the plugins' masker types and
     * detector kinds, and one masker per {@code masking.maskers[]} entry. A plugin type or
     * kind that is built in is an error naming the plugin.
     *
     * @param environment where the {@code hash} masker's {@code key_env} is looked up
     */
    public MaskerRegistry maskers(GatewayConfig.Masking masking, Function<String, String> environment, Clock clock,
                                  Path baseDirectory) throws PluginLoadException {
        Map<String, MaskerFactory> factories = extensions(MaskerFactory.class, MaskerFactory::type, "masker type",
                MaskerRegistry.BUILT_IN_TYPES);
        Map<String, PiiDetector> detectors = extensions(PiiDetector.class, PiiDetector::kind, "PII detector kind",
                MaskerRegistry.BUILT_IN_DETECTORS);
        return MaskerRegistry.build(masking.maskers(), factories, detectors, environment, clock, baseDirectory);
    }

    /**
     * The plugins' extensions of one kind by their type: two plugins providing the same type,
     * or a plugin providing a {@code builtIn} one, is an error naming the plugins.
     */
    private <T> Map<String, T> extensions(Class<T> point, Function<T, String> typeOf, String what, Set<String> builtIn)
            throws PluginLoadException {
        Map<String, T> byType = new LinkedHashMap<>();
        for (T extension : manager.getExtensions(point)) {
            String type = typeOf.apply(extension);
            if (builtIn.contains(type)) {
                throw new PluginLoadException("plugin " + manager.whichPlugin(extension.getClass()).getPluginId() + " provides "
                        + what + " \"" + type + "\", which is built in; a plugin cannot replace a built-in one (rename its type)");
            }
            T previous = byType.putIfAbsent(type, extension);
            if (previous != null) {
                throw new PluginLoadException("two plugins provide " + what + " \"" + type + "\": "
                        + manager.whichPlugin(previous.getClass()).getPluginId() + " and "
                        + manager.whichPlugin(extension.getClass()).getPluginId());
            }
        }
        return byType;
    }

    /**
     * Builds one approver per {@code approvers[]} entry, each named by its {@code name} or
     * else its {@code type}. Type {@value NamedApprover#WEB} is the admin page's inbox, the
     * gateway's own: it has nothing to deliver. On an error, those built so far are closed.
     */
    public List<NamedApprover> approvers(List<Map<String, Object>> entries, Clock clock, Path baseDirectory)
            throws PluginLoadException {
        Map<String, ApproverFactory> byType = extensions(ApproverFactory.class, ApproverFactory::type, "approver type",
                Set.of(NamedApprover.WEB));
        List<NamedApprover> built = new ArrayList<>();
        try {
            for (int i = 0; i < entries.size(); i++) {
                String at = "approvers[" + i + "]";
                String type = (String) entries.get(i).get("type");
                String name = (String) entries.get(i).getOrDefault("name", type);
                if (type.equals(NamedApprover.WEB)) {
                    PluginConfig config = new PluginConfig(at, entries.get(i));
                    try {
                        config.requireOnlyKeys(Set.of("type", "name"));
                    } catch (PluginConfigException e) {
                        throw new PluginLoadException(e.getMessage());
                    }
                    built.add(new NamedApprover(name, at + " (web)", null));
                    continue;
                }
                ApproverFactory factory = byType.get(type);
                if (factory == null) {
                    throw new PluginLoadException(at + ".type: no plugin provides approver type \"" + type + "\" (available: "
                            + String.join(", ", new TreeSet<>(java.util.stream.Stream.concat(byType.keySet().stream(),
                            java.util.stream.Stream.of(NamedApprover.WEB)).toList())) + "; plugins.dir is " + directory + ")");
                }
                try {
                    built.add(new NamedApprover(name, at + " (" + name + ")",
                            factory.create(new PluginConfig(at, entries.get(i)), new PluginContext(at, clock, baseDirectory))));
                } catch (PluginConfigException e) {
                    throw new PluginLoadException(e.getMessage());
                } catch (RuntimeException e) {
                    throw new PluginLoadException(at + ": the " + type + " plugin failed to build this approver: " + e);
                }
            }
        } catch (PluginLoadException e) {
            NamedApprover.closeAll(built);
            throw e;
        }
        return List.copyOf(built);
    }

    /** Closes sinks that never reached an audit log (which otherwise closes them). */
    public static void closeSinks(List<NamedSink> sinks) {
        for (NamedSink s : sinks) {
            try {
                s.sink().close();
            } catch (RuntimeException e) {
                LOG.warn("audit sink {} did not close cleanly", s.instance(), e);
            }
        }
    }

    @Override
    public void close() {
        // PluginManager.stopPlugins() iterates the started list while stopping removes from it
        // (pf4j issue 656), so stop each plugin from a copy.
        for (PluginWrapper p : List.copyOf(manager.getStartedPlugins()).reversed()) {
            try {
                manager.stopPlugin(p.getPluginId());
            } catch (RuntimeException e) {
                LOG.warn("plugin {} did not stop cleanly", p.getPluginId(), e);
            }
        }
        for (PluginWrapper p : List.copyOf(manager.getPlugins())) {
            manager.unloadPlugin(p.getPluginId());
        }
    }
}
