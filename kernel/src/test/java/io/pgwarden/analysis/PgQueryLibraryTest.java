package io.pgwarden.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgQueryLibraryTest {
    @TempDir
    Path dir;

    @Test
    void aMissingLibraryNamesThePackageAndWhereTheGatewayLooked() {
        assertThatThrownBy(() -> PgQueryLibrary.locate(null, List.of(dir.resolve("sys")), List.of(dir.resolve("dist/native"))))
                .isInstanceOf(ParserUnavailableException.class)
                .hasMessage("PostgreSQL's parser library libpg_query.so.1504.0 was not found (looked in " + dir.resolve("sys")
                        + ", " + dir.resolve("dist/native") + "): install the Debian package libpg-query1504.0"
                        + " (apt-get install libpg-query1504.0), or set -Dpgwarden.libpgquery to the library file");
        assertThatThrownBy(() -> PgQueryLibrary.locate(dir.resolve("nope.so").toString(), List.of(), List.of()))
                .isInstanceOf(ParserUnavailableException.class)
                .hasMessageStartingWith("-Dpgwarden.libpgquery=" + dir.resolve("nope.so") + " names no file");
    }

    @Test
    void theSystemLibraryComesBeforeTheBundledOne() throws Exception {
        Path system = Files.createDirectories(dir.resolve("sys"));
        Path bundled = Files.createDirectories(dir.resolve("dist/native"));
        Files.writeString(bundled.resolve(PgQueryLibrary.FILE_NAME), "");
        assertThat(PgQueryLibrary.locate(null, List.of(system), List.of(bundled))).isEqualTo(bundled.resolve(PgQueryLibrary.FILE_NAME));
        Files.writeString(system.resolve(PgQueryLibrary.FILE_NAME), "");
        assertThat(PgQueryLibrary.locate(null, List.of(system), List.of(bundled))).isEqualTo(system.resolve(PgQueryLibrary.FILE_NAME));
        assertThat(PgQueryLibrary.locate(bundled.resolve(PgQueryLibrary.FILE_NAME).toString(), List.of(system), List.of()))
                .isEqualTo(bundled.resolve(PgQueryLibrary.FILE_NAME));
    }

    @Test
    void theDepthBoundCountsChainsButNotFlatLists() throws Exception {
        PgQueryLibrary library = PgQueryLibrary.load();
        assertThat(library.depthBound(utf8("SELECT 1" + "+1".repeat(100)))).isEqualTo(101); // SELECT + 100 operators
        assertThat(library.depthBound(utf8("SELECT * FROM t WHERE id IN (" + "1,".repeat(1000) + "1)")))
                .isLessThan(10);
        assertThat(library.depthBound(utf8("INSERT INTO t VALUES " + "(1, 'a', $1),".repeat(1000) + "(2, 'b', $2)")))
                .isLessThan(10);
        // Statements separated by semicolons are separate trees.
        assertThat(library.depthBound(utf8("SELECT 1 + 1;".repeat(1000)))).isEqualTo(2);
        // Nesting adds up along the path: (SELECT (SELECT ...)).
        assertThat(library.depthBound(utf8("SELECT " + "(SELECT ".repeat(50) + "1" + ")".repeat(50))))
                .isGreaterThanOrEqualTo(100);
    }

    @Test
    void aDeepStatementIsParsedOnAThreadWithAStackForItsDepth() throws Exception {
        // 20,000 operators overflow a 1 MiB stack inside libpg_query; the guard must route it.
        byte[] deep = utf8("SELECT 1" + "+1".repeat(20_000));
        assertThat(PgQueryLibrary.load().parseJson(deep)).isNotEmpty();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
