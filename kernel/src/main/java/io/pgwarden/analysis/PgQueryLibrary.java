package io.pgwarden.analysis;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * PostgreSQL's own parser, libpg_query (Debian package {@value #DEBIAN_PACKAGE}, PostgreSQL
 * 15 grammar), bound with the FFM API. Thread safe: libpg_query keeps its memory contexts
 * per thread, and every call here allocates and frees its own memory.
 *
 * <p>The library is looked up, in this order: the file named by the system property
 * {@value #PATH_PROPERTY}; the system's library folders (the Debian package); the
 * distribution's {@code native/} folder under {@code pgwarden.home}; the build tree's
 * {@code target/native/}, where the kernel build puts the package's library when the
 * machine does not have it installed ({@code kernel/native/fetch-libpg-query.sh}).
 *
 * <p><b>Native stack.</b> libpg_query recurses once per level of the parse tree without
 * checking its stack: {@code SELECT 1+1+1...} with 20,000 terms (80 KB) overflows a 1 MB
 * thread stack, which would take the whole JVM down. Short texts cannot nest deeply enough
 * to matter and are parsed on the caller's thread; for longer ones a scan (which does not
 * recurse) bounds the depth first, and a deep one is parsed on a thread whose stack is
 * sized for that bound, or refused when even that would be unreasonable.
 */
public final class PgQueryLibrary {
    public static final String PATH_PROPERTY = "pgwarden.libpgquery";
    public static final String DEBIAN_PACKAGE = "libpg-query1504.0";
    static final String FILE_NAME = "libpg_query.so.1504.0";
    static final List<Path> SYSTEM_DIRS = List.of(Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/usr/lib/aarch64-linux-gnu"),
            Path.of("/usr/lib64"), Path.of("/usr/lib"), Path.of("/usr/local/lib"));

    /*
     * Stack sizing, measured on this machine (libpg_query 15-4.0.0 on Temurin 25): chains of
     * 30,000 binary operators, casts, COLLATE, ||, ->, AT TIME ZONE, JOINs and UNIONs, each
     * parsed on a thread of 256 KiB + k bytes per unit of the depth bound below, all passed
     * with k = 128 (+, ||, ->, COLLATE failed with k = 64). 512 bytes per unit is a margin of
     * four. Bracketed nesting stops at bison's stack limit (about 10,000) as a syntax error.
     * A text of at most INLINE_BYTES bytes has a bound of at most INLINE_BYTES units, i.e.
     * needs at most 256 KiB at the measured worst: such texts are parsed on the caller's
     * thread (1 MiB stacks by default) without a scan.
     */
    static final int INLINE_BYTES = 2048;
    static final long INLINE_DEPTH = 1000;
    static final long STACK_PER_LEVEL = 512;
    static final long STACK_BASE = 1 << 20;
    static final long MAX_STACK = 256L << 20;

    // PgQueryError, PgQueryParseResult, ... exactly as in pg_query.h (libpg-query-dev 15-4.0.0).
    private static final StructLayout ERROR = MemoryLayout.structLayout(
            ADDRESS.withName("message"), ADDRESS.withName("funcname"), ADDRESS.withName("filename"),
            JAVA_INT.withName("lineno"), JAVA_INT.withName("cursorpos"), ADDRESS.withName("context"));
    private static final StructLayout PARSE_RESULT = MemoryLayout.structLayout(
            ADDRESS.withName("parse_tree"), ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    private static final StructLayout SCAN_RESULT = MemoryLayout.structLayout(
            MemoryLayout.structLayout(JAVA_LONG.withName("len"), ADDRESS.withName("data")).withName("pbuf"),
            ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    private static final StructLayout FINGERPRINT_RESULT = MemoryLayout.structLayout(
            JAVA_LONG.withName("fingerprint"), ADDRESS.withName("fingerprint_str"),
            ADDRESS.withName("stderr_buffer"), ADDRESS.withName("error"));
    private static final StructLayout NORMALIZE_RESULT = MemoryLayout.structLayout(
            ADDRESS.withName("normalized_query"), ADDRESS.withName("error"));

    private static final long ERROR_MESSAGE = ERROR.byteOffset(groupElement("message"));
    private static final long ERROR_CURSORPOS = ERROR.byteOffset(groupElement("cursorpos"));
    private static final long PARSE_TREE = PARSE_RESULT.byteOffset(groupElement("parse_tree"));
    private static final long PARSE_ERROR = PARSE_RESULT.byteOffset(groupElement("error"));
    private static final long SCAN_LEN = SCAN_RESULT.byteOffset(groupElement("pbuf"), groupElement("len"));
    private static final long SCAN_DATA = SCAN_RESULT.byteOffset(groupElement("pbuf"), groupElement("data"));
    private static final long SCAN_ERROR = SCAN_RESULT.byteOffset(groupElement("error"));
    private static final long FINGERPRINT_STR = FINGERPRINT_RESULT.byteOffset(groupElement("fingerprint_str"));
    private static final long FINGERPRINT_ERROR = FINGERPRINT_RESULT.byteOffset(groupElement("error"));
    private static final long NORMALIZED_QUERY = NORMALIZE_RESULT.byteOffset(groupElement("normalized_query"));
    private static final long NORMALIZE_ERROR = NORMALIZE_RESULT.byteOffset(groupElement("error"));

    private static PgQueryLibrary loaded; // guarded by PgQueryLibrary.class

    private final Path path;
    private final MethodHandle parse;
    private final MethodHandle freeParse;
    private final MethodHandle scan;
    private final MethodHandle freeScan;
    private final MethodHandle fingerprint;
    private final MethodHandle freeFingerprint;
    private final MethodHandle normalize;
    private final MethodHandle freeNormalize;
    private final MethodHandle strlen;

    private PgQueryLibrary(Path path) throws ParserUnavailableException {
        this.path = path;
        SymbolLookup symbols;
        try {
            symbols = SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new ParserUnavailableException("cannot load PostgreSQL's parser library " + path + ": " + e.getMessage()
                    + "; install the Debian package " + DEBIAN_PACKAGE + " (apt-get install " + DEBIAN_PACKAGE + ")", e);
        }
        Linker linker = Linker.nativeLinker();
        strlen = linker.downcallHandle(linker.defaultLookup().findOrThrow("strlen"), FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        try {
            parse = linker.downcallHandle(symbols.findOrThrow("pg_query_parse"), FunctionDescriptor.of(PARSE_RESULT, ADDRESS));
            freeParse = linker.downcallHandle(symbols.findOrThrow("pg_query_free_parse_result"), FunctionDescriptor.ofVoid(PARSE_RESULT));
            scan = linker.downcallHandle(symbols.findOrThrow("pg_query_scan"), FunctionDescriptor.of(SCAN_RESULT, ADDRESS));
            freeScan = linker.downcallHandle(symbols.findOrThrow("pg_query_free_scan_result"), FunctionDescriptor.ofVoid(SCAN_RESULT));
            fingerprint = linker.downcallHandle(symbols.findOrThrow("pg_query_fingerprint"),
                    FunctionDescriptor.of(FINGERPRINT_RESULT, ADDRESS));
            freeFingerprint = linker.downcallHandle(symbols.findOrThrow("pg_query_free_fingerprint_result"),
                    FunctionDescriptor.ofVoid(FINGERPRINT_RESULT));
            normalize = linker.downcallHandle(symbols.findOrThrow("pg_query_normalize"), FunctionDescriptor.of(NORMALIZE_RESULT, ADDRESS));
            freeNormalize = linker.downcallHandle(symbols.findOrThrow("pg_query_free_normalize_result"),
                    FunctionDescriptor.ofVoid(NORMALIZE_RESULT));
        } catch (java.util.NoSuchElementException e) {
            throw new ParserUnavailableException(path + " is not the libpg_query this gateway was built for (" + e.getMessage()
                    + "); install the Debian package " + DEBIAN_PACKAGE, e);
        }
    }

    /**
     * The library, loaded once per JVM. Call it at start-up: a machine without the library
     * must fail there with the message of the exception, not at the first statement.
     */
    public static synchronized PgQueryLibrary load() throws ParserUnavailableException {
        if (loaded == null) {
            List<Path> bundled = new ArrayList<>();
            String home = System.getProperty("pgwarden.home");
            if (home != null && !home.isBlank()) {
                bundled.add(Path.of(home, "native"));
            }
            Path build = buildTreeNativeDir();
            if (build != null) {
                bundled.add(build);
            }
            loaded = new PgQueryLibrary(locate(System.getProperty(PATH_PROPERTY), SYSTEM_DIRS, bundled));
        }
        return loaded;
    }

    /** Where the library was found. */
    public Path path() {
        return path;
    }

    static Path locate(String explicit, List<Path> systemDirs, List<Path> bundledDirs) throws ParserUnavailableException {
        String install = "install the Debian package " + DEBIAN_PACKAGE + " (apt-get install " + DEBIAN_PACKAGE + ")";
        if (explicit != null && !explicit.isBlank()) {
            Path file = Path.of(explicit);
            if (!Files.isRegularFile(file)) {
                throw new ParserUnavailableException("-D" + PATH_PROPERTY + "=" + explicit + " names no file; point it at "
                        + FILE_NAME + " or " + install);
            }
            return file;
        }
        List<Path> dirs = new ArrayList<>(systemDirs);
        dirs.addAll(bundledDirs);
        for (Path dir : dirs) {
            Path file = dir.resolve(FILE_NAME);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new ParserUnavailableException("PostgreSQL's parser library " + FILE_NAME + " was not found (looked in "
                + dirs.stream().map(Path::toString).collect(Collectors.joining(", ")) + "): " + install
                + ", or set -D" + PATH_PROPERTY + " to the library file");
    }

    /** {@code target/native} beside the kernel's classes or jar, where the build fetches the library. */
    private static Path buildTreeNativeDir() {
        try {
            var source = PgQueryLibrary.class.getProtectionDomain().getCodeSource();
            if (source == null) {
                return null;
            }
            Path code = Path.of(source.getLocation().toURI());
            return code.getParent() == null ? null : code.getParent().resolve("native");
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    /**
     * The raw parse tree of {@code utf8} (which must not contain a NUL byte) as libpg_query's
     * JSON, UTF-8 encoded: {@code {"version":150001,"stmts":[{"stmt":{...},"stmt_location":..,"stmt_len":..}]}}.
     */
    byte[] parseJson(byte[] utf8) throws AnalysisException {
        return onSafeStack(utf8, () -> parseOnThisStack(utf8));
    }

    /** {@link #parseJson} without the stack guard: only for texts known to be shallow. */
    byte[] parseOnThisStack(byte[] utf8) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment result = (MemorySegment) parse.invokeExact((SegmentAllocator) arena, cString(arena, utf8));
            try {
                throwIfError(result.get(ADDRESS, PARSE_ERROR));
                MemorySegment tree = result.get(ADDRESS, PARSE_TREE);
                long length = (long) strlen.invokeExact(tree);
                return tree.reinterpret(length).toArray(JAVA_BYTE);
            } finally {
                freeParse.invokeExact(result);
            }
        }
    }

    /**
     * libpg_query's fingerprint of the statement(s): the same for texts that differ only in
     * literal values, whitespace, comments or the order of some lists; 16 hex digits.
     */
    public String fingerprint(String sql) throws AnalysisException {
        byte[] utf8 = utf8WithoutNul(sql);
        return onSafeStack(utf8, () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment result = (MemorySegment) fingerprint.invokeExact((SegmentAllocator) arena, cString(arena, utf8));
                try {
                    throwIfError(result.get(ADDRESS, FINGERPRINT_ERROR));
                    return string(result.get(ADDRESS, FINGERPRINT_STR));
                } finally {
                    freeFingerprint.invokeExact(result);
                }
            }
        });
    }

    /**
     * The text with every literal (and every password in CREATE/ALTER ROLE) replaced by
     * {@code $n}: for audit records that must not keep literal values.
     */
    public String normalize(String sql) throws AnalysisException {
        byte[] utf8 = utf8WithoutNul(sql);
        return onSafeStack(utf8, () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment result = (MemorySegment) normalize.invokeExact((SegmentAllocator) arena, cString(arena, utf8));
                try {
                    throwIfError(result.get(ADDRESS, NORMALIZE_ERROR));
                    return string(result.get(ADDRESS, NORMALIZED_QUERY));
                } finally {
                    freeNormalize.invokeExact(result);
                }
            }
        });
    }

    static byte[] utf8WithoutNul(String sql) throws UnanalyzableStatementException {
        if (sql.indexOf('\0') >= 0) {
            // C strings end at NUL: the parser would see less than the server is sent.
            throw new UnanalyzableStatementException("the statement contains a NUL character");
        }
        return sql.getBytes(StandardCharsets.UTF_8);
    }

    @FunctionalInterface
    interface NativeCall<T> {
        T call() throws Throwable;
    }

    private <T> T onSafeStack(byte[] utf8, NativeCall<T> call) throws AnalysisException {
        if (utf8.length > INLINE_BYTES) {
            long depth = depthBound(utf8);
            if (depth > INLINE_DEPTH) {
                long stack = STACK_BASE + depth * STACK_PER_LEVEL;
                if (stack > MAX_STACK) {
                    throw new UnanalyzableStatementException("the statement is nested too deeply");
                }
                return onOwnThread(stack, call);
            }
        }
        return invoke(call);
    }

    /** Runs {@code call} on a new thread with {@code stackSize} bytes of stack and waits for it. */
    static <T> T onOwnThread(long stackSize, NativeCall<T> call) throws AnalysisException {
        Object[] outcome = new Object[2];
        Thread thread = Thread.ofPlatform().name("pgwarden-deep-statement").daemon().stackSize(stackSize).unstarted(() -> {
            try {
                outcome[0] = invoke(call);
            } catch (AnalysisException | RuntimeException | Error e) {
                outcome[1] = e;
            }
        });
        thread.start();
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the native call cannot be abandoned half-way; wait for it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        switch (outcome[1]) {
            case AnalysisException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            case null -> {
                @SuppressWarnings("unchecked")
                T value = (T) outcome[0];
                return value;
            }
            default -> throw new IllegalStateException(String.valueOf(outcome[1]));
        }
    }

    private static <T> T invoke(NativeCall<T> call) throws AnalysisException {
        try {
            return call.call();
        } catch (AnalysisException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("libpg_query call failed", e);
        }
    }

    /**
     * An upper bound on the parse tree's depth, from PostgreSQL's own scanner (which does not
     * recurse). Within one bracket level, every tree level needs at least one token that is
     * not an identifier, a constant, a comma or a comment (an operator, a keyword, a cast);
     * a bracketed group adds its own bound plus one. Flat lists (IN lists, VALUES rows,
     * function arguments) therefore stay small however long they are.
     */
    long depthBound(byte[] utf8) throws AnalysisException {
        return invoke(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment result = (MemorySegment) scan.invokeExact((SegmentAllocator) arena, cString(arena, utf8));
                try {
                    throwIfError(result.get(ADDRESS, SCAN_ERROR));
                    long len = result.get(JAVA_LONG, SCAN_LEN);
                    MemorySegment data = result.get(ADDRESS, SCAN_DATA).reinterpret(len);
                    return DepthBound.of(data);
                } finally {
                    freeScan.invokeExact(result);
                }
            }
        });
    }

    /** Reads pg_query's ScanResult protobuf (field 2: ScanToken, whose field 4 is the token). */
    static final class DepthBound {
        private static final int IDENT = 258;
        private static final int UIDENT = 259;
        private static final int FCONST = 260;
        private static final int SCONST = 261;
        private static final int USCONST = 262;
        private static final int BCONST = 263;
        private static final int XCONST = 264;
        private static final int ICONST = 266;
        private static final int PARAM = 267;
        private static final int SQL_COMMENT = 275;
        private static final int C_COMMENT = 276;

        private long[] counts = new long[64];
        private long[] deepestChild = new long[64];
        private int level;
        private long best;

        static long of(MemorySegment data) {
            DepthBound bound = new DepthBound();
            long[] at = {0};
            long end = data.byteSize();
            while (at[0] < end) {
                long tag = varint(data, at);
                if (tag >>> 3 == 2 && (tag & 7) == 2) {
                    long tokenEnd = varint(data, at) + at[0];
                    int token = 0;
                    while (at[0] < tokenEnd) {
                        long field = varint(data, at);
                        long value = skip(data, at, field);
                        if (field >>> 3 == 4) {
                            token = (int) value;
                        }
                    }
                    bound.token(token);
                } else {
                    skip(data, at, tag);
                }
            }
            return bound.finish();
        }

        void token(int token) {
            switch (token) {
                case '(', '[' -> {
                    if (++level == counts.length) {
                        counts = java.util.Arrays.copyOf(counts, level * 2);
                        deepestChild = java.util.Arrays.copyOf(deepestChild, level * 2);
                    }
                    counts[level] = 0;
                    deepestChild[level] = 0;
                }
                case ')', ']' -> {
                    if (level > 0) {
                        close();
                    } else {
                        counts[0]++;
                    }
                }
                case ';' -> {
                    if (level == 0) {
                        best = Math.max(best, counts[0] + deepestChild[0]);
                        counts[0] = 0;
                        deepestChild[0] = 0;
                    } else {
                        counts[level]++;
                    }
                }
                case ',', IDENT, UIDENT, FCONST, SCONST, USCONST, BCONST, XCONST, ICONST, PARAM, SQL_COMMENT, C_COMMENT -> {
                }
                default -> counts[level]++;
            }
        }

        private void close() {
            long sub = counts[level] + deepestChild[level] + 1;
            level--;
            deepestChild[level] = Math.max(deepestChild[level], sub);
        }

        long finish() {
            while (level > 0) {
                close();
            }
            return Math.max(best, counts[0] + deepestChild[0]);
        }

        private static long varint(MemorySegment data, long[] at) {
            long value = 0;
            for (int shift = 0; shift < 64 && at[0] < data.byteSize(); shift += 7) {
                byte b = data.get(JAVA_BYTE, at[0]++);
                value |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    break;
                }
            }
            return value;
        }

        /** Skips (or reads, for a varint) the value of a field with this tag. */
        private static long skip(MemorySegment data, long[] at, long tag) {
            switch ((int) (tag & 7)) {
                case 0 -> {
                    return varint(data, at);
                }
                case 1 -> at[0] += 8;
                case 2 -> {
                    long n = varint(data, at);
                    at[0] += n;
                }
                case 5 -> at[0] += 4;
                default -> at[0] = data.byteSize(); // not produced by pg_query; stop reading
            }
            return 0;
        }
    }

    private static MemorySegment cString(Arena arena, byte[] utf8) {
        MemorySegment segment = arena.allocate(utf8.length + 1L);
        MemorySegment.copy(utf8, 0, segment, JAVA_BYTE, 0, utf8.length);
        segment.set(JAVA_BYTE, utf8.length, (byte) 0);
        return segment;
    }

    private static String string(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            return "";
        }
        return pointer.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    }

    private static void throwIfError(MemorySegment error) throws SqlSyntaxException {
        if (error.equals(MemorySegment.NULL)) {
            return;
        }
        MemorySegment e = error.reinterpret(ERROR.byteSize());
        String message = string(e.get(ADDRESS, ERROR_MESSAGE));
        throw new SqlSyntaxException(message.isEmpty() ? "syntax error" : message, e.get(JAVA_INT, ERROR_CURSORPOS));
    }
}
