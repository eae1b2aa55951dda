package io.pgwarden.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs a {@code pgwarden} command in-process and captures what it prints. */
public final class CommandLineForTests {

    public record Result(int exitCode, String out, String err) {
    }

    private CommandLineForTests() {
    }

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
