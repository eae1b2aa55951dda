package io.pgwarden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BinaryValuesTest {

    @Test
    void knownVectorsDecodeAndEncode() {
        assertRoundTrip(ValueTypes.INT2, "0001", "1");
        assertRoundTrip(ValueTypes.INT2, "ffff", "-1");
        assertRoundTrip(ValueTypes.INT4, "7fffffff", "2147483647");
        assertRoundTrip(ValueTypes.INT8, "8000000000000000", "-9223372036854775808");
        assertRoundTrip(ValueTypes.OID, "ffffffff", "4294967295");
        assertRoundTrip(ValueTypes.TEXT, "c3a9", "é");
        assertRoundTrip(ValueTypes.JSONB, "017b7d", "{}");
        assertRoundTrip(ValueTypes.FLOAT8, "3ff8000000000000", "1.5");
        assertRoundTrip(ValueTypes.FLOAT4, "3fc00000", "1.5");
    }

    @Test
    void unsupportedTypesAndInvalidBytesAreEmpty() {
        assertThat(BinaryValues.decode(ValueTypes.NUMERIC, new byte[8])).isEmpty();
        assertThat(BinaryValues.decode(1082, new byte[4])).isEmpty();
        assertThat(BinaryValues.decode(ValueTypes.INT4, new byte[3])).isEmpty();
        assertThat(BinaryValues.decode(ValueTypes.TEXT, new byte[] {(byte) 0xC3})).isEmpty();
        assertThat(BinaryValues.decode(ValueTypes.JSONB, new byte[] {2, '{', '}'})).isEmpty();
        assertThat(BinaryValues.decode(ValueTypes.JSONB, new byte[0])).isEmpty();
        assertThat(BinaryValues.encode(ValueTypes.INT2, "32768")).isEmpty();
        assertThat(BinaryValues.encode(ValueTypes.INT4, "1.5")).isEmpty();
        assertThat(BinaryValues.encode(ValueTypes.FLOAT8, "0x1p3")).isEmpty();
        assertThat(BinaryValues.encode(ValueTypes.TEXT, "a\0b")).isEmpty();
        assertThat(BinaryValues.encode(ValueTypes.NUMERIC, "1")).isEmpty();
    }

    /**
     * PostgreSQL's own binary output ({@code typsend}) against its text output, for values
     * chosen at the edges of each type and of float8out's fixed/exponential switch.
     */
    @Test
    void decodeGivesPostgresqlsTextForPostgresqlsBinary() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        String[][] cases = {
                {"int2", "int2send", "'-32768','0','32767'"},
                {"int4", "int4send", "'-2147483648','42','2147483647'"},
                {"int8", "int8send", "'-9223372036854775808','4111111111111111','9223372036854775807'"},
                {"oid", "oidsend", "'0','4294967295'"},
                {"text", "textsend", "'alice@example.com','é😀',''"},
                {"varchar", "varcharsend", "'x y'"},
                {"bpchar", "bpcharsend", "'ab'"},
                {"name", "namesend", "'pg_class'"},
                {"json", "json_send", "'{\"a\": [1, 2.50]}','\"s\"'"},
                {"jsonb", "jsonb_send", "'{\"a\": [1, 2.50], \"b\": \"alice@example.com\"}','[]'"},
                {"float8", "float8send", "'0','-0','1.5','0.1','1e15','1e16','123456789012345','1e-4','1e-5','1.7976931348623157e308',"
                        + "'5e-324','-2.5e-7','NaN','Infinity','-Infinity','3.141592653589793','100'"},
                {"float4", "float4send", "'0','-0','1.5','0.1','1e6','999999','123456','1e-4','1e-5','3.4028235e38','1e-45',"
                        + "'NaN','-Infinity','16777216'"},
        };
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(TestPostgres.DATABASE), pg.superuser(), pg.password());
             Statement s = c.createStatement()) {
            s.execute("SET client_encoding = 'UTF8'");
            for (String[] t : cases) {
                try (ResultSet rs = s.executeQuery("SELECT v::" + t[0] + "::text, encode(" + t[1] + "(v::" + t[0] + "), 'hex') "
                        + "FROM unnest(ARRAY[" + t[2] + "]) v")) {
                    while (rs.next()) {
                        String text = rs.getString(1);
                        byte[] binary = HexFormat.of().parseHex(rs.getString(2));
                        int oid = oidOf(t[0]);
                        assertThat(BinaryValues.decode(oid, binary)).as(t[0] + " " + text).contains(text);
                        assertThat(BinaryValues.encode(oid, text).map(HexFormat.of()::formatHex))
                                .as(t[0] + " " + text).contains(HexFormat.of().formatHex(binary));
                    }
                }
            }
        }
    }

    private static int oidOf(String name) {
        return switch (name) {
            case "int2" -> ValueTypes.INT2;
            case "int4" -> ValueTypes.INT4;
            case "int8" -> ValueTypes.INT8;
            case "oid" -> ValueTypes.OID;
            case "text" -> ValueTypes.TEXT;
            case "varchar" -> ValueTypes.VARCHAR;
            case "bpchar" -> ValueTypes.BPCHAR;
            case "name" -> ValueTypes.NAME;
            case "json" -> ValueTypes.JSON;
            case "jsonb" -> ValueTypes.JSONB;
            case "float4" -> ValueTypes.FLOAT4;
            case "float8" -> ValueTypes.FLOAT8;
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static void assertRoundTrip(int oid, String hex, String text) {
        byte[] bytes = HexFormat.of().parseHex(hex);
        assertThat(BinaryValues.decode(oid, bytes)).contains(text);
        assertThat(BinaryValues.encode(oid, text).map(HexFormat.of()::formatHex)).isEqualTo(Optional.of(hex));
    }
}
