package io.pgwarden.wire;

import java.util.Locale;

/**
 * Which client encodings deliver statement bytes as UTF-8: the gateway reads and checks every
 * statement as UTF-8 text, and in other encodings (SJIS, BIG5, GBK: a byte of a multi-byte
 * character can be a quote or a backslash) it would not see the statement the server runs.
 * SQL_ASCII passes bytes unconverted, and a UTF8 server checks them as UTF-8.
 */
public final class ClientEncodings {

    private ClientEncodings() {
    }

    /** Compared as PostgreSQL compares encoding names: case, '-' and '_' do not matter. */
    public static boolean readsAsUtf8(String name) {
        String e = name.toUpperCase(Locale.ROOT).replace("-", "").replace("_", "");
        return e.equals("UTF8") || e.equals("UNICODE") || e.equals("SQLASCII");
    }
}
