package io.pgwarden.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a real client program (psql, pgbench) with a deadline and captures what it printed. */
public final class ExternalCommand {

    public record Result(int exitCode, String output) {
    }

    private ExternalCommand() {
    }

    /** The program's path, from PATH or the PostgreSQL bin folder; null when absent. */
    public static Path find(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        Path pgBin = Path.of("/usr/lib/postgresql/15/bin", program);
        return Files.isExecutable(pgBin) ? pgBin : null;
    }

    public static Result run(List<String> command, Map<String, String> env, String stdin, long timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        var output = new java.io.ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                p.getInputStream().transferTo(output);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            reader.join(5000);
            throw new AssertionError(command.getFirst() + " did not finish within " + timeoutSeconds + "s; output:\n" + output);
        }
        reader.join(5000);
        return new Result(p.exitValue(), output.toString(StandardCharsets.UTF_8));
    }
}
