package io.pgwarden.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.pgwarden.recording.RecordedSession;
import io.pgwarden.recording.Recorder;
import io.pgwarden.recording.Replay;
import io.pgwarden.session.FrontendSession;
import io.pgwarden.session.SessionInfo;
import io.pgwarden.session.SessionRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Sessions and their recordings in the admin API: {@code GET /api/sessions} lists the live
 * sessions and the recorded ones together (a live one marked {@code "live": true}), and
 * {@code GET /api/recordings/{id}} (or {@code …/download}, the same JSON as a file) returns a
 * session's recording once its hash chain verified. A broken recording is answered with 409
 * and what is wrong, never with its events.
 */
final class RecordingRoutes {
    static final int DEFAULT_LIMIT = 100;

    private final SessionRegistry sessions;
    private final Recorder recorder;

    RecordingRoutes(SessionRegistry sessions, Recorder recorder) {
        this.sessions = sessions;
        this.recorder = recorder;
    }

    void register(RoutesConfig routes) {
        routes.get("/api/sessions", this::list);
        routes.get("/api/recordings/{id}", ctx -> replay(ctx, false));
        routes.get("/api/recordings/{id}/download", ctx -> replay(ctx, true));
    }

    private void list(Context ctx) throws Exception {
        String identity = ctx.queryParam("identity");
        int limit;
        try {
            limit = ctx.queryParam("limit") == null ? DEFAULT_LIMIT : Integer.parseInt(ctx.queryParam("limit"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100_000) {
            AdminServer.error(ctx, 400, "limit must be between 1 and 100000");
            return;
        }
        Map<String, Map<String, Object>> rows = new LinkedHashMap<>();
        for (RecordedSession r : recorder.list(identity, limit)) {
            rows.put(r.id(), RecordingJson.session(r));
        }
        for (FrontendSession live : sessions.sessions()) {
            SessionInfo info = live.info();
            if (info == null || (identity != null && !identity.equals(info.identity()))) {
                continue;
            }
            Map<String, Object> row = AdminServer.view(info);
            Map<String, Object> recorded = rows.get(info.id());
            row.put("live", true);
            row.put("ended", null);
            row.put("statements", recorded != null ? recorded.get("statements") : null);
            row.put("recorded", recorded != null || recorder.enabled());
            rows.put(info.id(), row);
        }
        List<Map<String, Object>> list = new ArrayList<>(rows.values());
        list.sort(Comparator.comparing((Map<String, Object> r) -> (String) r.get("started")).thenComparing(r -> (String) r.get("id")));
        ctx.json(Map.of("sessions", list));
    }

    private void replay(Context ctx, boolean download) throws Exception {
        String id = ctx.pathParam("id");
        Optional<Replay> replay = recorder.read(id);
        if (replay.isEmpty()) {
            AdminServer.error(ctx, 404, "no recording of session " + id);
            return;
        }
        Map<String, Object> body = RecordingJson.replay(replay.get());
        if (!replay.get().intact()) {
            ctx.status(409).json(body);
            return;
        }
        if (download) {
            ctx.header("Content-Disposition", "attachment; filename=\"pgwarden-session-" + id.replaceAll("[^A-Za-z0-9_-]", "_") + ".json\"");
        }
        ctx.json(body);
    }
}
