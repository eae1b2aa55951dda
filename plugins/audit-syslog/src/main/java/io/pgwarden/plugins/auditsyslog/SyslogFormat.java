package io.pgwarden.plugins.auditsyslog;

import io.pgwarden.plugin.api.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * RFC 5424 messages and RFC 6587 octet-counting frames; no I/O.
 *
 * <pre>
 * &lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA BOM MSG
 * &lt;134&gt;1 2026-11-25T10:00:00.123456Z gw1 pgwarden - STATEMENT - \uFEFF{"event_id":…}
 * </pre>
 *
 * PRI is facility × 8 + severity (RFC 5424 §6.2.1): a refused statement is a warning (4), a
 * statement that failed a notice (5), everything else informational (6). MSGID is the
 * event's kind. There is no STRUCTURED-DATA ("-"): custom SD-IDs need an IANA enterprise
 * number (§7.2.2), and the whole event is in MSG as the JSON every pgwarden sink writes,
 * after the UTF-8 BOM that §6.4 asks for (it can be turned off for receivers that show it).
 */
final class SyslogFormat {
    /** RFC 5424 §6.2.1, in code order. */
    static final List<String> FACILITIES = List.of("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
            "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
            "local5", "local6", "local7");
    static final int WARNING = 4;
    static final int NOTICE = 5;
    static final int INFORMATIONAL = 6;
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    /** TIME-SECFRAC allows at most six digits (§6.2.3). */
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final int facility;
    private final String hostname;
    private final String appName;
    private final boolean bom;

    SyslogFormat(int facility, String hostname, String appName, boolean bom) {
        this.facility = facility;
        this.hostname = header(hostname, 255);
        this.appName = header(appName, 48);
        this.bom = bom;
    }

    static int severity(AuditEvent e) {
        if (AuditEvent.Decision.DENY.equals(e.decision())) {
            return WARNING;
        }
        return e.outcome() == AuditEvent.Outcome.ERROR ? NOTICE : INFORMATIONAL;
    }

    /** The message for {@code e}; at most {@code maxBytes} long (the statement is shortened first), or unbounded with 0. */
    byte[] message(AuditEvent e, int maxBytes) {
        byte[] m = render(e);
        if (maxBytes <= 0 || m.length <= maxBytes) {
            return m;
        }
        String statement = e.statement();
        if (statement != null && !statement.isEmpty()) {
            // The longest start of the statement that keeps the message (JSON whole) within
            // the limit: binary search, as characters and bytes differ (UTF-8, escapes).
            int lo = 0;
            int hi = statement.length() - 1;
            while (lo < hi) {
                int mid = (lo + hi + 1) >>> 1;
                if (shortened(e, statement, mid).length <= maxBytes) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            m = shortened(e, statement, lo);
        }
        // Still too long (enormous relation lists): cut the bytes; the receiver gets a torn
        // JSON, but the event's id and kind are near the start, and the full event is in the store.
        return m.length <= maxBytes ? m : Arrays.copyOf(m, maxBytes);
    }

    private byte[] shortened(AuditEvent e, String statement, int keep) {
        if (keep > 0 && Character.isHighSurrogate(statement.charAt(keep - 1))) {
            keep--; // never half a character
        }
        return render(e.toBuilder().statement(statement.substring(0, keep) + "…[shortened for syslog]").build());
    }

    private byte[] render(AuditEvent e) {
        int pri = facility * 8 + severity(e);
        String head = "<" + pri + ">1 " + TIMESTAMP.format(e.time()) + " " + hostname + " " + appName + " - "
                + header(e.kind().name(), 32) + " - ";
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        out.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
        if (bom) {
            out.writeBytes(BOM);
        }
        out.writeBytes(e.toJson().getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** RFC 6587 §3.4.1: {@code MSG-LEN SP SYSLOG-MSG}, the length in decimal octets. */
    static byte[] frame(byte[] message) {
        byte[] prefix = (message.length + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] framed = Arrays.copyOf(prefix, prefix.length + message.length);
        System.arraycopy(message, 0, framed, prefix.length, message.length);
        return framed;
    }

    /**
     * A header field: PRINTUSASCII (33-126) only, at most {@code max} characters, "-" when
     * empty (§6.2). Anything else in a host or application name becomes '_'.
     */
    static String header(String value, int max) {
        if (value == null || value.isEmpty()) {
            return "-";
        }
        StringBuilder sb = new StringBuilder(Math.min(value.length(), max));
        for (int i = 0; i < value.length() && sb.length() < max; i++) {
            char c = value.charAt(i);
            sb.append(c >= 33 && c <= 126 ? c : '_');
        }
        return sb.toString();
    }
}
