package io.pgwarden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A recording as a psql-like transcript: each statement at its prompt, with its time since
 * the session started, then what the client received (result tables, command tags, errors,
 * notices, COPY summaries), in the recorded order. Waits between events as long as the
 * session did (divided by {@code speed}), unless told not to wait.
 */
final class Transcript {
    /** Sleeps; a test or {@code --no-wait} passes one that does not. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long micros) throws InterruptedException;
    }

    private final PrintWriter out;
    private final double speed;
    private final Sleeper sleeper;
    private String prompt = "=> ";
    private List<String> columns = List.of();
    private final List<List<String>> rows = new ArrayList<>();

    Transcript(PrintWriter out, double speed, Sleeper sleeper) {
        this.out = out;
        this.speed = speed;
        this.sleeper = sleeper;
    }

    void play(JsonNode session, Iterable<JsonNode> events) throws InterruptedException {
        prompt = session.path("database").asText("") + "=> ";
        long last = 0;
        for (JsonNode e : events) {
            long t = e.path("t").asLong();
            if (t > last && speed > 0) {
                out.flush();
                sleeper.sleep((long) ((t - last) / speed));
            }
            last = Math.max(last, t);
            event(session, e);
        }
        out.flush();
    }

    private void event(JsonNode session, JsonNode e) {
        String at = String.format("[+%.3fs] ", e.path("t").asLong() / 1e6);
        switch (e.path("type").asText()) {
            case "session_start" -> out.printf("-- session %s of %s (%s%s) from %s, database %s, upstream %s, policy %s%n"
                            + "-- started %s%n%n",
                    e.path("session").asText(), e.path("identity").asText(), e.path("issuer").asText(),
                    e.path("groups").isEmpty() ? "" : ", groups " + join(e.path("groups")), e.path("client").asText(),
                    e.path("database").asText(), e.path("upstream").asText(), e.path("policy").asText(), e.path("started").asText());
            case "statement" -> {
                out.println(at + prompt + e.path("text").asText());
                if (!e.path("parameters").isEmpty()) {
                    List<String> p = new ArrayList<>();
                    int i = 1;
                    for (JsonNode v : e.path("parameters")) {
                        p.add("$" + i++ + " = " + (v.isNull() ? "NULL" : "'" + v.asText().replace("'", "''") + "'"));
                    }
                    out.println("-- parameters: " + String.join(", ", p));
                }
                if (!e.path("decision").asText().equals("ALLOW")) {
                    out.println("-- pgwarden: " + e.path("decision").asText()
                            + (e.has("reason") ? " (" + e.path("reason").asText() + ")" : ""));
                } else if (e.has("reason")) {
                    out.println("-- " + e.path("reason").asText()); // how a hold ended: who approved it
                }
            }
            case "columns" -> {
                rows.clear();
                columns = new ArrayList<>();
                e.path("columns").forEach(c -> columns.add(c.path("name").asText()));
            }
            case "row" -> {
                List<String> values = new ArrayList<>();
                e.path("values").forEach(v -> values.add(v.isNull() ? "" : v.asText()));
                rows.add(values);
            }
            case "copy_data" -> out.print(e.path("data").asText());
            case "complete" -> {
                if (!columns.isEmpty()) {
                    table();
                    long notRecorded = e.path("rows_not_recorded").asLong(0);
                    long total = rows.size() + notRecorded;
                    out.printf("(%d row%s%s)%n", total, total == 1 ? "" : "s",
                            notRecorded > 0 ? "; " + notRecorded + " not recorded (recording.max_rows_per_result)" : "");
                } else {
                    if (e.path("rows_not_recorded").asLong(0) > 0) {
                        out.println("-- " + e.path("rows_not_recorded").asLong() + " COPY row(s) not recorded (recording.max_rows_per_result)");
                    }
                    out.println(e.path("tag").asText());
                }
                out.println();
                columns = List.of();
                rows.clear();
            }
            case "empty_query" -> out.println();
            case "error", "notice" -> {
                if (!columns.isEmpty()) {
                    table(); // the rows sent before the error
                    columns = List.of();
                    rows.clear();
                }
                out.printf("%s:  %s%n", e.path("severity").asText(), e.path("message").asText());
                if (e.has("detail")) {
                    out.println("DETAIL:  " + e.path("detail").asText());
                }
                if (e.has("hint")) {
                    out.println("HINT:  " + e.path("hint").asText());
                }
                if (e.path("type").asText().equals("error")) {
                    out.println("-- SQLSTATE " + e.path("sqlstate").asText());
                    out.println();
                }
            }
            case "copy_in" -> out.println("-- COPY FROM STDIN (" + e.path("format").asText() + ")");
            case "copy_out" -> out.println("-- COPY TO STDOUT (" + e.path("format").asText() + ")");
            case "copy_in_data" -> out.printf("-- the client sent %d COPY message(s), %d byte(s); %s%n", e.path("messages").asLong(),
                    e.path("bytes").asLong(), e.path("end").asText());
            case "held" -> out.println(at + prompt + e.path("text").asText() + "\n-- held for approval: request "
                    + e.path("request").asText());
            case "gap" -> out.println(at + "-- " + e.path("dropped_events").asLong()
                    + " event(s) not recorded here: the recording writer fell behind");
            case "session_end" -> out.println(at + "-- session ended: " + e.path("reason").asText());
            default -> {
                // ready, portal_suspended: nothing a psql user would see
            }
        }
    }

    /** A result as psql's aligned format prints it. */
    private void table() {
        int[] widths = new int[columns.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = columns.get(i).length();
            for (List<String> row : rows) {
                if (i < row.size()) {
                    widths[i] = Math.max(widths[i], row.get(i).length());
                }
            }
        }
        List<String> header = new ArrayList<>();
        List<String> rule = new ArrayList<>();
        for (int i = 0; i < widths.length; i++) {
            int pad = widths[i] - columns.get(i).length();
            header.add(" ".repeat(pad / 2) + columns.get(i) + " ".repeat(pad - pad / 2));
            rule.add("-".repeat(widths[i]));
        }
        out.println((" " + String.join(" | ", header)).stripTrailing());
        out.println("-" + String.join("-+-", rule) + "-");
        for (List<String> row : rows) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < widths.length; i++) {
                String v = i < row.size() ? row.get(i) : "";
                cells.add(v + " ".repeat(widths[i] - v.length()));
            }
            out.println((" " + String.join(" | ", cells)).stripTrailing());
        }
    }

    private static String join(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return String.join(",", values);
    }
}
