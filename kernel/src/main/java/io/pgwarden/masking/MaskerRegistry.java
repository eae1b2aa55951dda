package io.pgwarden.masking;

import io.pgwarden.plugin.PluginLoadException;
import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PiiDetector;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The maskers and PII detectors the gateway's policies can name, built once at start-up:
 *
 * <ul>
 *   <li>every {@code masking.maskers[]} entry, under its {@code name} (default: its type),
 *       made by the factory of its {@code type}: a built-in one or a plugin's;</li>
 *   <li>each built-in type under its own name with its default options ({@code redact},
 *       {@code email}, {@code partial}, {@code null}), unless an entry takes that name;
 *       {@code hash} needs a key, so it exists only as configured;</li>
 *   <li>the built-in detectors ({@code email}, {@code phone}, {@code card}, {@code ssn},
 *       {@code iban}) and the plugins' {@link PiiDetector}s by kind.</li>
 * </ul>
 *
 * A plugin may add types and kinds, never replace a built-in one: that is a start-up error.
 */
public final class MaskerRegistry implements MaskRules.Resolver {
    /** The built-in masker types, also the names of their default instances (except hash). */
    public static final Set<String> BUILT_IN_TYPES = Set.of(RedactMaskerFactory.TYPE, EmailMaskerFactory.TYPE,
            PartialMaskerFactory.TYPE, HashMaskerFactory.TYPE, NullMaskerFactory.TYPE);
    /** The built-in detector kinds. */
    public static final Set<String> BUILT_IN_DETECTORS = Set.of(EmailDetector.KIND, PhoneDetector.KIND, CardDetector.KIND,
            SsnDetector.KIND, IbanDetector.KIND);

    private final Map<String, NamedMasker> maskers;
    private final Map<String, PiiDetector> detectors;

    private MaskerRegistry(Map<String, NamedMasker> maskers, Map<String, PiiDetector> detectors) {
        this.maskers = Collections.unmodifiableMap(maskers);
        this.detectors = Collections.unmodifiableMap(detectors);
    }

    /**
     * @param entries         the {@code masking.maskers} entries, each with {@code type} and optional {@code name}
     *                        (checked unique by the configuration's validation)
     * @param pluginFactories masker factories from plugins by type; none may be a built-in type
     * @param pluginDetectors detectors from plugins by kind; none may be a built-in kind
     * @param environment     where {@code key_env} is looked up
     */
    public static MaskerRegistry build(List<Map<String, Object>> entries, Map<String, MaskerFactory> pluginFactories,
                                       Map<String, PiiDetector> pluginDetectors, Function<String, String> environment,
                                       Clock clock, Path baseDirectory) throws PluginLoadException {
        List<MaskerFactory> builtIn = builtInFactories(environment);
        Map<String, MaskerFactory> factories = new LinkedHashMap<>();
        for (MaskerFactory f : builtIn) {
            factories.put(f.type(), f);
        }
        for (Map.Entry<String, MaskerFactory> e : pluginFactories.entrySet()) {
            if (factories.putIfAbsent(e.getKey(), e.getValue()) != null) {
                throw new PluginLoadException("a plugin provides masker type \"" + e.getKey()
                        + "\", which is built in; a plugin cannot replace a built-in masker (rename its type)");
            }
        }
        Map<String, NamedMasker> maskers = new LinkedHashMap<>();
        for (MaskerFactory f : builtIn) {
            if (!f.type().equals(HashMaskerFactory.TYPE)) {
                maskers.put(f.type(), create(f, f.type(), "masking (built-in " + f.type() + ")",
                        Map.of("type", f.type()), clock, baseDirectory));
            }
        }
        for (int i = 0; i < entries.size(); i++) {
            String at = "masking.maskers[" + i + "]";
            Map<String, Object> entry = entries.get(i);
            String type = (String) entry.get("type");
            MaskerFactory factory = factories.get(type);
            if (factory == null) {
                throw new PluginLoadException(at + ".type: no masker type \"" + type + "\" (built in: "
                        + String.join(", ", new TreeSet<>(BUILT_IN_TYPES)) + "; from plugins: "
                        + (pluginFactories.isEmpty() ? "none" : String.join(", ", new TreeSet<>(pluginFactories.keySet()))) + ")");
            }
            String name = (String) entry.getOrDefault("name", type);
            maskers.put(name, create(factory, name, at, entry, clock, baseDirectory));
        }
        Map<String, PiiDetector> detectors = new LinkedHashMap<>();
        for (PiiDetector d : builtInDetectors()) {
            detectors.put(d.kind(), d);
        }
        for (Map.Entry<String, PiiDetector> e : pluginDetectors.entrySet()) {
            if (detectors.putIfAbsent(e.getKey(), e.getValue()) != null) {
                throw new PluginLoadException("a plugin provides PII detector kind \"" + e.getKey()
                        + "\", which is built in; a plugin cannot replace a built-in detector (rename its kind)");
            }
        }
        return new MaskerRegistry(maskers, detectors);
    }

    /** Only what is built in, with default options: for a configuration without {@code masking} and no plugins. */
    public static MaskerRegistry builtIns() {
        try {
            return build(List.of(), Map.of(), Map.of(), name -> null, Clock.systemUTC(), Path.of("."));
        } catch (PluginLoadException e) {
            throw new IllegalStateException("the built-in maskers must build with their defaults", e);
        }
    }

    private static NamedMasker create(MaskerFactory factory, String name, String at, Map<String, Object> entry,
                                      Clock clock, Path baseDirectory) throws PluginLoadException {
        try {
            Masker masker = factory.create(new PluginConfig(at, entry), new PluginContext(at, clock, baseDirectory));
            if (masker == null) {
                throw new PluginLoadException(at + ": the " + factory.type() + " masker factory returned no masker");
            }
            return new NamedMasker(name, factory.type(), masker);
        } catch (PluginConfigException e) {
            throw new PluginLoadException(e.getMessage());
        } catch (RuntimeException e) {
            throw new PluginLoadException(at + ": the " + factory.type() + " masker type failed to build this masker: " + e);
        }
    }

    private static List<MaskerFactory> builtInFactories(Function<String, String> environment) {
        return List.of(new RedactMaskerFactory(), new EmailMaskerFactory(), new PartialMaskerFactory(),
                new HashMaskerFactory(environment), new NullMaskerFactory());
    }

    private static List<PiiDetector> builtInDetectors() {
        return List.of(new EmailDetector(), new PhoneDetector(), new CardDetector(), new SsnDetector(), new IbanDetector());
    }

    /** The masker a policy names, logged by its name. */
    @Override
    public Optional<Masker> masker(String name) {
        return Optional.ofNullable(maskers.get(name));
    }

    public Set<String> maskerNames() {
        return maskers.keySet();
    }

    @Override
    public Optional<PiiDetector> detector(String kind) {
        return Optional.ofNullable(detectors.get(kind));
    }

    public Set<String> detectorKinds() {
        return detectors.keySet();
    }

    /** The detectors of these kinds, in this order; an unknown kind is an error naming it and the known ones. */
    public List<PiiDetector> detectors(List<String> kinds) {
        List<PiiDetector> result = new ArrayList<>(kinds.size());
        for (String kind : kinds) {
            PiiDetector d = detectors.get(kind);
            if (d == null) {
                throw new IllegalArgumentException("no PII detector \"" + kind + "\" (known: "
                        + String.join(", ", new TreeSet<>(detectors.keySet())) + ")");
            }
            result.add(d);
        }
        return List.copyOf(result);
    }

    @Override
    public String toString() {
        return "MaskerRegistry[maskers=" + maskers.keySet() + ", detectors=" + detectors.keySet() + "]";
    }
}
