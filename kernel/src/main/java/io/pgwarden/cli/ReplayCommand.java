package io.pgwarden.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.admin.AdminClient;
import io.pgwarden.admin.AdminClientException;
import io.pgwarden.admin.RecordingJson;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.recording.RecordingReader;
import io.pgwarden.recording.Replay;
import io.pgwarden.store.StoreException;
import io.pgwarden.vault.Vault;
import io.pgwarden.vault.VaultException;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgwarden replay SESSION}: a session's recording, played back as a psql-like
 * transcript (or its events as JSON lines) with the session's own timing. Asks the running
 * gateway, or reads the store of a stopped one. A recording whose hash chain is broken is
 * not played: the command says where it breaks and exits 2.
 */
@Command(name = "replay", description = "Play back a recorded session: what the agent sent and what it received, in order, "
        + "with the original timing. Exit status 2 when the recording's hash chain is broken (nothing is played).")
final class ReplayCommand extends ConfiguredCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(paramLabel = "SESSION", description = "A session id, as `sessions list` shows it.")
    String session;

    @ArgGroup(exclusive = true)
    Timing timing;

    static final class Timing {
        @Option(names = "--speed", paramLabel = "X", description = "Play X times as fast as the session ran (default 1).")
        Double speed;

        @Option(names = "--no-wait", description = "Print everything at once.")
        boolean noWait;
    }

    @Option(names = "--json", description = "The recorded events, one JSON object a line (format: docs/recording.md).")
    boolean json;

    @Override
    int run(LoadedConfig loaded, PrintWriter out, PrintWriter err) {
        double speed = timing == null ? 1 : timing.noWait ? 0 : timing.speed;
        if (speed < 0 || Double.isNaN(speed)) {
            err.println("--speed must be a positive number");
            return 1;
        }
        JsonNode body;
        try {
            body = askRunningGateway(loaded, client -> client.get("/api/recordings/" + AdminClient.encode(session)));
            if (body == null) {
                body = fromStoppedGateway(loaded);
                if (body == null) {
                    err.println("no recording of session " + session);
                    return 1;
                }
            }
        } catch (AdminClientException e) {
            err.println(e.getMessage());
            return e.status() == 409 ? 2 : 1;
        } catch (StoreException | VaultException e) {
            err.println(e.getMessage());
            return 1;
        }
        if (!body.path("intact").asBoolean()) {
            err.println(body.path("error").asText());
            return 2;
        }
        try {
            if (json) {
                long last = 0;
                for (JsonNode e : body.path("events")) {
                    long t = e.path("t").asLong();
                    if (speed > 0 && t > last) {
                        out.flush();
                        sleep((long) ((t - last) / speed));
                    }
                    last = Math.max(last, t);
                    out.println(e.toString());
                }
                out.flush();
            } else {
                new Transcript(out, speed, ReplayCommand::sleep).play(body.path("session"), body.path("events"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
        return 0;
    }

    private static void sleep(long micros) throws InterruptedException {
        Thread.sleep(micros / 1_000, (int) (micros % 1_000) * 1_000);
    }

    /** The recording from a stopped gateway's store; null when it holds none of this session. */
    private JsonNode fromStoppedGateway(LoadedConfig loaded) throws StoreException, VaultException {
        try (Vault vault = openStoppedStore(loaded, "recordings")) {
            Optional<Replay> replay = new RecordingReader(vault.store()).migrated().read(session);
            return replay.map(r -> JSON.valueToTree(RecordingJson.replay(r))).map(JsonNode.class::cast).orElse(null);
        }
    }
}
