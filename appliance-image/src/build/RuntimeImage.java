import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

/**
 * Builds the appliance's Java runtime with jlink: only the JDK modules that jdeps finds the
 * kernel, its libraries and the bundled plugins use, plus the few that are reached by name at
 * run time and so are invisible to jdeps. Launched by Maven with the toolchain's JDK 25
 * (`java RuntimeImage.java KERNEL_TARGET OUTPUT`), so the runtime is that JDK's.
 */
public final class RuntimeImage {
    /** Looked up by name, not by a class reference jdeps could see. */
    private static final List<String> REACHED_BY_NAME = List.of(
            "jdk.zipfs",        // FileSystems.newFileSystem over a jar (PF4J, H2's zip: URLs)
            "jdk.naming.dns");  // JNDI DNS lookups (logback's and the JDK's own)

    /**
     * Baked into runtime/bin/java, so that bin/pgwarden, the container's entrypoint and the
     * systemd unit all start the gateway the same way. Netty's leak detection samples buffers
     * with stack traces (a test-time tool); the FFM parser binding needs native access;
     * UsePerfData off: no hsperfdata file in /tmp, which is read-only in the container.
     */
    private static final String JVM_OPTIONS =
            "-XX:+UseCompactObjectHeaders -XX:-UsePerfData --enable-native-access=ALL-UNNAMED -Dio.netty.leakDetection.level=disabled";

    public static void main(String[] args) throws IOException {
        Path kernelTarget = Path.of(args[0]);
        Path output = Path.of(args[1]);
        List<String> jars = new ArrayList<>();
        jars.add(kernelTarget.resolve("pgwarden-kernel.jar").toString());
        try (Stream<Path> plugins = Files.list(kernelTarget.resolve("dist/plugins"))) {
            plugins.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> jars.add(p.toString()));
        }
        String classPath;
        try (Stream<Path> libraries = Files.list(kernelTarget.resolve("dist/lib"))) {
            // Each jar named: the in-process jdeps does not expand a "lib/*" wildcard.
            classPath = String.join(File.pathSeparator, libraries.map(Path::toString).sorted().toList());
        }
        List<String> jdeps = new ArrayList<>(List.of("--multi-release", String.valueOf(Runtime.version().feature()),
                "--ignore-missing-deps", "--print-module-deps", "--class-path", classPath));
        jdeps.addAll(jars);
        TreeSet<String> modules = new TreeSet<>(List.of(run("jdeps", jdeps).strip().split(",")));
        modules.addAll(REACHED_BY_NAME);
        System.out.println("[appliance] runtime modules: " + String.join(",", modules));

        deleteRecursively(output);
        run("jlink", List.of("--add-modules", String.join(",", modules), "--output", output.toString(),
                "--strip-debug", "--no-header-files", "--no-man-pages", "--compress", "zip-6",
                "--add-options", JVM_OPTIONS));
    }

    private static String run(String tool, List<String> args) {
        ToolProvider provider = ToolProvider.findFirst(tool)
                .orElseThrow(() -> new IllegalStateException(tool + " is not in this JDK (" + System.getProperty("java.home") + ")"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = provider.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
        if (status != 0) {
            throw new IllegalStateException(tool + " " + String.join(" ", args) + " failed (" + status + "):\n" + out + err);
        }
        return out.toString();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
