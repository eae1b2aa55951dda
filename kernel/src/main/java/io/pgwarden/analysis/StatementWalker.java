package io.pgwarden.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.analysis.StatementAnalysis.Flag;
import io.pgwarden.analysis.StatementDetail.CopyEndpoint;
import io.pgwarden.analysis.StatementDetail.DiscardTarget;
import io.pgwarden.analysis.StatementDetail.SettingChange;
import io.pgwarden.analysis.StatementDetail.TransactionKind;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns one statement of libpg_query's raw parse tree into a {@link StatementAnalysis}.
 *
 * <p><b>Deny what is not recognised.</b> Every node type the walker accepts is named below,
 * and every field of every node is either walked with its meaning (a relation read or
 * written, an expression, a subquery, a nested statement) or declared a scalar; a node type
 * or field that is not named makes the whole statement {@link UnanalyzableStatementException
 * unanalysable}. Subtrees that hold only names, types, constants and options (DefElem lists,
 * role names, type names, object names in DROP or COMMENT) are checked by {@link #inert}:
 * every node type in them must be one of {@link #INERT}, none of which can hold a relation
 * or a function call. Nothing is skipped because it looked harmless.
 *
 * <p><b>CTE names shadow relations.</b> An unqualified name in FROM that matches a CTE in
 * scope is that CTE, not a relation; the CTE's body is walked where it is defined. Scope
 * follows PostgreSQL: a CTE is visible in the statement after its WITH, in later siblings of
 * a non-recursive WITH and in all siblings of WITH RECURSIVE, and in every nested subquery.
 * A name taken for a CTE that PostgreSQL would resolve to a table would hide a relation, so
 * the rules err the other way.
 */
final class StatementWalker {
    /** Deeper trees are refused: 1,000 levels is far beyond hand-written or generated SQL. */
    static final int MAX_DEPTH = 1000;

    /** Node types that can only hold names, types, constants or options, never a relation or a call. */
    static final Set<String> INERT = Set.of("String", "Integer", "Float", "Boolean", "BitString", "List", "A_Const",
            "A_Star", "TypeName", "RoleSpec", "DefElem", "ObjectWithArgs", "FunctionParameter", "AccessPriv",
            "TriggerTransition", "TypeCast", "CollateClause", "ColumnRef", "ParamRef", "VariableSetStmt",
            "ReplicaIdentityStmt");

    private static final Set<String> RELATION_OBJECTS = Set.of("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW",
            "OBJECT_INDEX", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE");
    /** Objects named by their relation followed by their own name (DROP TRIGGER t ON rel, COMMENT ON COLUMN rel.c). */
    private static final Set<String> RELATION_MEMBER_OBJECTS = Set.of("OBJECT_TRIGGER", "OBJECT_RULE", "OBJECT_POLICY",
            "OBJECT_COLUMN", "OBJECT_TABCONSTRAINT");

    private static final EnumSet<Command> PLANNABLE = EnumSet.of(Command.SELECT, Command.INSERT, Command.UPDATE,
            Command.DELETE, Command.MERGE);
    private static final EnumSet<Command> MODIFYING = EnumSet.of(Command.INSERT, Command.UPDATE, Command.DELETE,
            Command.MERGE);

    private static final Map<String, TransactionKind> TRANSACTION_KINDS = Map.ofEntries(
            Map.entry("TRANS_STMT_BEGIN", TransactionKind.BEGIN), Map.entry("TRANS_STMT_START", TransactionKind.START),
            Map.entry("TRANS_STMT_COMMIT", TransactionKind.COMMIT), Map.entry("TRANS_STMT_ROLLBACK", TransactionKind.ROLLBACK),
            Map.entry("TRANS_STMT_SAVEPOINT", TransactionKind.SAVEPOINT),
            Map.entry("TRANS_STMT_RELEASE", TransactionKind.RELEASE),
            Map.entry("TRANS_STMT_ROLLBACK_TO", TransactionKind.ROLLBACK_TO),
            Map.entry("TRANS_STMT_PREPARE", TransactionKind.PREPARE),
            Map.entry("TRANS_STMT_COMMIT_PREPARED", TransactionKind.COMMIT_PREPARED),
            Map.entry("TRANS_STMT_ROLLBACK_PREPARED", TransactionKind.ROLLBACK_PREPARED));

    /** What one statement (or a nested one) has been found to do so far. */
    private static final class Collector {
        Command command;
        final Set<Command> commands = new LinkedHashSet<>();
        final Set<RelationRef> relations = new LinkedHashSet<>();
        final Set<FunctionRef> functions = new LinkedHashSet<>();
        final Set<Flag> flags = EnumSet.noneOf(Flag.class);
        StatementDetail detail = StatementDetail.NONE;
        String prepared;
        boolean selectInto;

        void command(Command c) {
            command = c;
            commands.add(c);
        }

        StatementAnalysis build() {
            Command effective = command;
            if (effective == Command.SELECT) {
                if (selectInto) {
                    effective = Command.DDL;
                } else {
                    // WITH d AS (DELETE ...) SELECT ... writes: say so in the command itself.
                    effective = commands.stream().filter(MODIFYING::contains).findFirst().orElse(Command.SELECT);
                }
            }
            commands.add(effective);
            if (!PLANNABLE.contains(effective)) {
                flags.add(Flag.UTILITY);
            }
            if (commands.contains(Command.DDL) || commands.contains(Command.GRANT) || commands.contains(Command.ROLE_ADMIN)) {
                flags.add(Flag.DDL);
            }
            if (commands.contains(Command.TRANSACTION)) {
                flags.add(Flag.TRANSACTION_CONTROL);
            }
            return new StatementAnalysis(effective, EnumSet.copyOf(commands), new ArrayList<>(relations),
                    new ArrayList<>(functions), flags, detail, Optional.ofNullable(prepared));
        }
    }

    /** CTE names visible at a point of the tree; {@code null} is the empty scope. */
    private record Scope(Set<String> ctes, Scope parent) {
        static boolean isCte(Scope scope, String name) {
            for (Scope s = scope; s != null; s = s.parent) {
                if (s.ctes.contains(name)) {
                    return true;
                }
            }
            return false;
        }
    }

    private Collector out = new Collector();
    private int depth;

    private StatementWalker() {
    }

    /**
     * The walker recurses once or twice per tree level, up to {@link #MAX_DEPTH} levels.
     * Compiled, that is about 250 bytes per level; in a cold JVM the interpreter's frames for
     * the same methods take up to about 1.7 KiB per level (measured: 600 levels overflowed a
     * 1 MiB stack before the JIT had compiled the walker). A walk that overflows the caller's
     * stack is therefore repeated on a thread with this much stack, which holds MAX_DEPTH
     * levels even interpreted, several times over.
     */
    static final long FALLBACK_STACK = 16L << 20;

    /** @param stmt the {@code stmt} of one RawStmt: a Node object such as {@code {"SelectStmt": {...}}} */
    static StatementAnalysis analyse(JsonNode stmt) throws UnanalyzableStatementException {
        try {
            return walk(stmt);
        } catch (StackOverflowError e) {
            // Nothing shared was touched: the walker's state is its own. Walk again with room.
            try {
                return PgQueryLibrary.onOwnThread(FALLBACK_STACK, () -> walk(stmt));
            } catch (StackOverflowError again) {
                throw new UnanalyzableStatementException("the statement is nested too deeply");
            } catch (UnanalyzableStatementException refused) {
                throw refused;
            } catch (AnalysisException other) {
                throw new IllegalStateException(other);
            }
        }
    }

    private static StatementAnalysis walk(JsonNode stmt) throws UnanalyzableStatementException {
        StatementWalker walker = new StatementWalker();
        ParseNode node = ParseNode.unwrap(stmt, "statement");
        if (node == null) {
            throw new UnanalyzableStatementException("empty statement");
        }
        walker.statement(node, null);
        return walker.out.build();
    }

    // ---------------------------------------------------------------- statements

    private void statement(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        enter();
        try {
            switch (n.type) {
                case "SelectStmt" -> {
                    out.command(Command.SELECT);
                    select(n, scope);
                }
                case "InsertStmt" -> insert(n, scope);
                case "UpdateStmt" -> update(n, scope);
                case "DeleteStmt" -> delete(n, scope);
                case "MergeStmt" -> merge(n, scope);
                case "TruncateStmt" -> truncate(n);
                case "CopyStmt" -> copy(n, scope);
                case "ExplainStmt" -> explain(n, scope);
                case "PrepareStmt" -> prepare(n, scope);
                case "ExecuteStmt" -> execute(n, scope);
                case "DeallocateStmt" -> deallocate(n);
                case "DeclareCursorStmt" -> declare(n, scope);
                case "FetchStmt" -> fetch(n);
                case "ClosePortalStmt" -> close(n);
                case "VariableSetStmt" -> variableSet(n, false);
                case "VariableShowStmt" -> show(n);
                case "DiscardStmt" -> discard(n);
                case "TransactionStmt" -> transaction(n);
                case "ConstraintsSetStmt" -> constraintsSet(n);
                case "DoStmt" -> doBlock(n);
                case "CallStmt" -> call(n, scope);
                case "ListenStmt", "NotifyStmt", "UnlistenStmt" -> channel(n);
                case "LockStmt" -> lock(n);
                case "VacuumStmt" -> vacuum(n);
                case "AlterSystemStmt" -> alterSystem(n);
                case "LoadStmt" -> {
                    out.command(Command.LOAD);
                    n.scalars("filename");
                    n.done();
                }
                case "CheckPointStmt" -> {
                    out.command(Command.MAINTENANCE);
                    n.done();
                }
                case "ClusterStmt" -> cluster(n);
                case "ReindexStmt" -> reindex(n);
                case "RefreshMatViewStmt" -> refreshMatView(n);
                case "GrantStmt" -> grant(n);
                case "GrantRoleStmt" -> inertStatement(n, Command.GRANT);
                case "AlterDefaultPrivilegesStmt" -> alterDefaultPrivileges(n);
                case "CreateRoleStmt", "AlterRoleStmt", "DropRoleStmt", "AlterRoleSetStmt", "DropOwnedStmt",
                     "ReassignOwnedStmt" -> inertStatement(n, Command.ROLE_ADMIN);
                case "CreateStmt" -> {
                    out.command(Command.DDL);
                    create(n, scope);
                }
                case "CreateForeignTableStmt" -> createForeignTable(n, scope);
                case "AlterTableStmt" -> alterTable(n, scope);
                case "DropStmt" -> drop(n);
                case "IndexStmt" -> index(n, scope);
                case "ViewStmt" -> view(n, scope);
                case "CreateTableAsStmt" -> createTableAs(n, scope);
                case "CreateSeqStmt" -> sequence(n, "CreateSeqStmt");
                case "AlterSeqStmt" -> sequence(n, "AlterSeqStmt");
                case "CreateSchemaStmt" -> createSchema(n);
                case "RenameStmt" -> rename(n);
                case "CommentStmt", "SecLabelStmt" -> commentOrLabel(n);
                case "CreateFunctionStmt" -> createFunction(n, scope);
                case "CreateTrigStmt" -> createTrigger(n, scope);
                case "CreateDomainStmt" -> createDomain(n, scope);
                case "AlterDomainStmt" -> alterDomain(n, scope);
                case "CompositeTypeStmt" -> compositeType(n, scope);
                case "AlterObjectSchemaStmt" -> alterObjectSchema(n);
                case "AlterOwnerStmt" -> alterOwner(n);
                case "CreatePolicyStmt", "AlterPolicyStmt" -> policy(n, scope);
                case "CreateStatsStmt" -> createStats(n, scope);
                case "CreateEventTrigStmt" -> createEventTrigger(n);
                case "CreateEnumStmt", "AlterEnumStmt", "CreateRangeStmt", "DefineStmt", "CreateExtensionStmt",
                     "AlterExtensionStmt", "CreatedbStmt", "DropdbStmt", "AlterDatabaseStmt", "AlterDatabaseSetStmt",
                     "CreateTableSpaceStmt", "DropTableSpaceStmt", "AlterCollationStmt", "AlterStatsStmt",
                     "AlterTypeStmt", "CreateConversionStmt", "CreateCastStmt", "AlterFunctionStmt" ->
                        inertStatement(n, Command.DDL);
                default -> throw UnanalyzableStatementException.unsupported(n.type);
            }
        } finally {
            leave();
        }
    }

    /** A statement nested in another, analysed on its own (EXPLAIN, PREPARE, DECLARE, COPY, CREATE ... AS). */
    private StatementAnalysis nested(ParseNode n, Scope scope, String context) throws UnanalyzableStatementException {
        if (n == null) {
            throw UnanalyzableStatementException.unsupported(context + " without a statement");
        }
        Collector saved = out;
        out = new Collector();
        try {
            statement(n, scope);
            return out.build();
        } finally {
            out = saved;
        }
    }

    /** The nested statement runs as part of this one: everything it does, this statement does. */
    private void mergeExecuted(StatementAnalysis inner) {
        out.commands.addAll(inner.commands());
        out.relations.addAll(inner.relations());
        out.functions.addAll(inner.functions());
        for (Flag flag : inner.flags()) {
            if (flag != Flag.UTILITY && flag != Flag.DDL && flag != Flag.TRANSACTION_CONTROL) {
                out.flags.add(flag);
            }
        }
        inner.preparedStatement().ifPresent(p -> out.prepared = p);
    }

    /** The nested statement is planned or stored, not run: its relations are only read, its calls listed. */
    private void mergeReferenced(StatementAnalysis inner) {
        for (RelationRef r : inner.relations()) {
            out.relations.add(new RelationRef(r.schema(), r.name(), Access.READ));
        }
        out.functions.addAll(inner.functions());
        inner.preparedStatement().ifPresent(p -> out.prepared = p);
    }

    // ---------------------------------------------------------------- SELECT and DML

    private void select(ParseNode n, Scope outer) throws UnanalyzableStatementException {
        enter();
        try {
            Scope scope = with(n.object("withClause", "WithClause"), outer);
            ParseNode into = n.object("intoClause", "IntoClause");
            if (into != null) {
                out.selectInto = true;
                out.commands.add(Command.DDL);
                intoClause(into);
            }
            String op = n.text("op");
            if (op.isEmpty() || op.equals("SETOP_NONE")) {
                for (ParseNode d : n.nodes("distinctClause")) {
                    expr(d, scope);
                }
                targetList(n.nodes("targetList"), scope);
                for (ParseNode from : n.nodes("fromClause")) {
                    fromItem(from, scope);
                }
                expr(n.node("whereClause"), scope);
                for (ParseNode g : n.nodes("groupClause")) {
                    expr(g, scope);
                }
                expr(n.node("havingClause"), scope);
                for (ParseNode w : n.nodes("windowClause")) {
                    windowDef(require(w, "WindowDef", "SelectStmt.windowClause"), scope);
                }
                for (ParseNode row : n.nodes("valuesLists")) {
                    expr(row, scope);
                }
            } else if (op.equals("SETOP_UNION") || op.equals("SETOP_INTERSECT") || op.equals("SETOP_EXCEPT")) {
                select(required(n.object("larg", "SelectStmt"), "SelectStmt.larg"), scope);
                select(required(n.object("rarg", "SelectStmt"), "SelectStmt.rarg"), scope);
            } else {
                throw UnanalyzableStatementException.unsupported("SelectStmt.op " + op);
            }
            for (ParseNode s : n.nodes("sortClause")) {
                sortBy(require(s, "SortBy", "SelectStmt.sortClause"), scope);
            }
            expr(n.node("limitOffset"), scope);
            expr(n.node("limitCount"), scope);
            for (ParseNode l : n.nodes("lockingClause")) {
                lockingClause(require(l, "LockingClause", "SelectStmt.lockingClause"));
            }
            n.scalars("groupDistinct", "limitOption", "all");
            n.done();
        } finally {
            leave();
        }
    }

    private void subquery(ParseNode n, Scope scope, String context) throws UnanalyzableStatementException {
        select(require(n, "SelectStmt", context), scope);
    }

    private void insert(ParseNode n, Scope outer) throws UnanalyzableStatementException {
        out.command(Command.INSERT);
        Scope scope = with(n.object("withClause", "WithClause"), outer);
        rangeVar(required(n.object("relation", "RangeVar"), "InsertStmt.relation"), Access.WRITE, null);
        for (ParseNode col : n.nodes("cols")) {
            resTarget(require(col, "ResTarget", "InsertStmt.cols"), scope);
        }
        ParseNode source = n.node("selectStmt");
        if (source != null) {
            subquery(source, scope, "InsertStmt.selectStmt");
        }
        ParseNode conflict = n.object("onConflictClause", "OnConflictClause");
        if (conflict != null) {
            onConflict(conflict, scope);
        }
        targetList(n.nodes("returningList"), scope);
        n.scalars("override");
        n.done();
    }

    private void onConflict(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        String action = n.text("action");
        switch (action) {
            case "ONCONFLICT_NOTHING", "ONCONFLICT_NONE", "" -> {
            }
            case "ONCONFLICT_UPDATE" -> out.commands.add(Command.UPDATE); // an upsert changes existing rows
            default -> throw UnanalyzableStatementException.unsupported("OnConflictClause.action " + action);
        }
        ParseNode infer = n.object("infer", "InferClause");
        if (infer != null) {
            for (ParseNode e : infer.nodes("indexElems")) {
                indexElem(require(e, "IndexElem", "InferClause.indexElems"), scope);
            }
            expr(infer.node("whereClause"), scope);
            infer.scalars("conname", "location");
            infer.done();
        }
        targetList(n.nodes("targetList"), scope);
        expr(n.node("whereClause"), scope);
        n.scalars("location");
        n.done();
    }

    private void update(ParseNode n, Scope outer) throws UnanalyzableStatementException {
        out.command(Command.UPDATE);
        Scope scope = with(n.object("withClause", "WithClause"), outer);
        rangeVar(required(n.object("relation", "RangeVar"), "UpdateStmt.relation"), Access.WRITE, null);
        targetList(n.nodes("targetList"), scope);
        ParseNode where = n.node("whereClause");
        if (where == null) {
            out.flags.add(Flag.NO_WHERE);
        }
        expr(where, scope);
        for (ParseNode from : n.nodes("fromClause")) {
            fromItem(from, scope);
        }
        targetList(n.nodes("returningList"), scope);
        n.done();
    }

    private void delete(ParseNode n, Scope outer) throws UnanalyzableStatementException {
        out.command(Command.DELETE);
        Scope scope = with(n.object("withClause", "WithClause"), outer);
        rangeVar(required(n.object("relation", "RangeVar"), "DeleteStmt.relation"), Access.WRITE, null);
        for (ParseNode using : n.nodes("usingClause")) {
            fromItem(using, scope);
        }
        ParseNode where = n.node("whereClause");
        if (where == null) {
            out.flags.add(Flag.NO_WHERE);
        }
        expr(where, scope);
        targetList(n.nodes("returningList"), scope);
        n.done();
    }

    private void merge(ParseNode n, Scope outer) throws UnanalyzableStatementException {
        out.command(Command.MERGE);
        Scope scope = with(n.object("withClause", "WithClause"), outer);
        rangeVar(required(n.object("relation", "RangeVar"), "MergeStmt.relation"), Access.WRITE, null);
        fromItem(required(n.node("sourceRelation"), "MergeStmt.sourceRelation"), scope);
        expr(n.node("joinCondition"), scope);
        for (ParseNode w : n.nodes("mergeWhenClauses")) {
            ParseNode when = require(w, "MergeWhenClause", "MergeStmt.mergeWhenClauses");
            String action = when.text("commandType");
            switch (action) {
                case "CMD_UPDATE" -> out.commands.add(Command.UPDATE);
                case "CMD_INSERT" -> out.commands.add(Command.INSERT);
                case "CMD_DELETE" -> out.commands.add(Command.DELETE);
                case "CMD_NOTHING" -> {
                }
                default -> throw UnanalyzableStatementException.unsupported("MergeWhenClause.commandType " + action);
            }
            expr(when.node("condition"), scope);
            targetList(when.nodes("targetList"), scope);
            for (ParseNode v : when.nodes("values")) {
                expr(v, scope);
            }
            when.scalars("matched", "override");
            when.done();
        }
        n.done();
    }

    /** WITH: walks the CTE bodies and returns the scope in which their names shadow relations. */
    private Scope with(ParseNode with, Scope outer) throws UnanalyzableStatementException {
        if (with == null) {
            return outer;
        }
        boolean recursive = with.bool("recursive");
        with.scalars("location");
        List<ParseNode> ctes = with.nodes("ctes");
        with.done();
        Set<String> names = new HashSet<>();
        Scope scope = new Scope(names, outer);
        if (recursive) {
            for (ParseNode cte : ctes) {
                names.add(require(cte, "CommonTableExpr", "WithClause.ctes").peekText("ctename"));
            }
        }
        for (ParseNode c : ctes) {
            ParseNode cte = require(c, "CommonTableExpr", "WithClause.ctes");
            String name = cte.text("ctename");
            ParseNode body = required(cte.node("ctequery"), "CommonTableExpr.ctequery");
            switch (body.type) {
                case "SelectStmt" -> select(body, scope);
                case "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt" -> {
                    Command outerCommand = out.command;
                    statement(body, scope);
                    out.command = outerCommand;
                    out.flags.add(Flag.DATA_MODIFYING_CTE);
                }
                default -> throw UnanalyzableStatementException.unsupported("WITH " + body.type);
            }
            inert(cte.raw("aliascolnames"));
            ParseNode search = cte.object("search_clause", "CTESearchClause");
            if (search != null) {
                inert(search.all());
            }
            ParseNode cycle = cte.object("cycle_clause", "CTECycleClause");
            if (cycle != null) {
                inert(cycle.raw("cycle_col_list"));
                expr(cycle.node("cycle_mark_value"), scope);
                expr(cycle.node("cycle_mark_default"), scope);
                cycle.scalars("cycle_mark_column", "cycle_path_column", "location", "cycle_mark_type", "cycle_mark_typmod",
                        "cycle_mark_collation", "cycle_mark_neop");
                cycle.done();
            }
            cte.scalars("ctematerialized", "location", "cterecursive", "cterefcount");
            cte.done();
            names.add(name); // visible to later siblings and to the statement, not to its own body
        }
        return scope;
    }

    private void intoClause(ParseNode into) throws UnanalyzableStatementException {
        rangeVar(required(into.object("rel", "RangeVar"), "IntoClause.rel"), Access.WRITE, null);
        inert(into.raw("colNames"));
        inert(into.raw("options"));
        if (into.node("viewQuery") != null) {
            throw UnanalyzableStatementException.unsupported("IntoClause.viewQuery");
        }
        into.scalars("accessMethod", "onCommit", "tableSpaceName", "skipData");
        into.done();
    }

    private void lockingClause(ParseNode n) throws UnanalyzableStatementException {
        out.flags.add(Flag.LOCKING);
        for (ParseNode rel : n.nodes("lockedRels")) {
            // FOR UPDATE OF a, b names FROM items (aliases), not further relations.
            require(rel, "RangeVar", "LockingClause.lockedRels").all();
        }
        n.scalars("strength", "waitPolicy");
        n.done();
    }

    private void targetList(List<ParseNode> targets, Scope scope) throws UnanalyzableStatementException {
        for (ParseNode t : targets) {
            resTarget(require(t, "ResTarget", "target list"), scope);
        }
    }

    private void resTarget(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        n.scalars("name", "location");
        for (ParseNode i : n.nodes("indirection")) {
            indirection(i, scope);
        }
        expr(n.node("val"), scope);
        n.done();
    }

    // ---------------------------------------------------------------- FROM

    private void fromItem(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        if (n == null) {
            throw UnanalyzableStatementException.unsupported("empty FROM item");
        }
        enter();
        try {
            switch (n.type) {
                case "RangeVar" -> rangeVar(n, Access.READ, scope);
                case "RangeSubselect" -> {
                    subquery(n.node("subquery"), scope, "RangeSubselect.subquery");
                    alias(n.object("alias", "Alias"));
                    n.scalars("lateral");
                    n.done();
                }
                case "RangeFunction" -> rangeFunction(n, scope);
                case "JoinExpr" -> {
                    fromItem(n.node("larg"), scope);
                    fromItem(n.node("rarg"), scope);
                    inert(n.raw("usingClause"));
                    alias(n.object("join_using_alias", "Alias"));
                    expr(n.node("quals"), scope);
                    alias(n.object("alias", "Alias"));
                    n.scalars("jointype", "isNatural", "rtindex");
                    n.done();
                }
                case "RangeTableSample" -> {
                    fromItem(n.node("relation"), scope);
                    inert(n.raw("method"));
                    for (ParseNode a : n.nodes("args")) {
                        expr(a, scope);
                    }
                    expr(n.node("repeatable"), scope);
                    n.scalars("location");
                    n.done();
                }
                case "RangeTableFunc" -> {
                    expr(n.node("docexpr"), scope);
                    expr(n.node("rowexpr"), scope);
                    targetList(n.nodes("namespaces"), scope);
                    for (ParseNode c : n.nodes("columns")) {
                        ParseNode col = require(c, "RangeTableFuncCol", "RangeTableFunc.columns");
                        inert(col.raw("typeName"));
                        expr(col.node("colexpr"), scope);
                        expr(col.node("coldefexpr"), scope);
                        col.scalars("colname", "for_ordinality", "is_not_null", "location");
                        col.done();
                    }
                    alias(n.object("alias", "Alias"));
                    n.scalars("lateral", "location");
                    n.done();
                }
                default -> throw UnanalyzableStatementException.unsupported(n.type);
            }
        } finally {
            leave();
        }
    }

    private void rangeFunction(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        for (ParseNode f : n.nodes("functions")) {
            // Each item is a two-element List: the call, and a column definition list or NIL.
            ParseNode pair = require(f, "List", "RangeFunction.functions");
            List<ParseNode> items = pair.nodes("items");
            pair.done();
            if (items.isEmpty() || items.size() > 2) {
                throw UnanalyzableStatementException.unsupported("RangeFunction.functions");
            }
            expr(items.get(0), scope);
            if (items.size() == 2 && items.get(1) != null) {
                ParseNode defs = require(items.get(1), "List", "RangeFunction.functions");
                for (ParseNode d : defs.nodes("items")) {
                    columnDef(require(d, "ColumnDef", "column definition list"), scope);
                }
                defs.done();
            }
        }
        alias(n.object("alias", "Alias"));
        for (ParseNode d : n.nodes("coldeflist")) {
            columnDef(require(d, "ColumnDef", "RangeFunction.coldeflist"), scope);
        }
        n.scalars("lateral", "ordinality", "is_rowsfrom");
        n.done();
    }

    private void alias(ParseNode alias) throws UnanalyzableStatementException {
        if (alias != null) {
            alias.scalars("aliasname");
            inert(alias.raw("colnames"));
            alias.done();
        }
    }

    /**
     * A relation as written. {@code scope} is where an unqualified name may be a CTE instead;
     * null for positions that always name a relation (DML targets, DDL).
     */
    private void rangeVar(ParseNode n, Access access, Scope scope) throws UnanalyzableStatementException {
        String catalog = n.text("catalogname");
        String schema = n.text("schemaname");
        String name = n.text("relname");
        String persistence = n.text("relpersistence");
        alias(n.object("alias", "Alias"));
        n.scalars("inh", "location");
        n.done();
        if (name.isEmpty()) {
            throw UnanalyzableStatementException.unsupported("relation without a name");
        }
        if (schema.isEmpty() && catalog.isEmpty() && Scope.isCte(scope, name)) {
            return;
        }
        if (schema.isEmpty() && persistence.equals("t")) {
            schema = "pg_temp"; // CREATE TEMP TABLE x: PostgreSQL creates it there whatever the search_path
        }
        out.relations.add(new RelationRef(schema.isEmpty() ? null : schema, name, access));
    }

    /** DROP TABLE a, s.b / COMMENT ON TABLE ...: a name list such as ["s", "b"]. */
    private void relationByName(ParseNode list, Access access, boolean lastIsMember) throws UnanalyzableStatementException {
        ParseNode names = require(list, "List", "object name");
        List<String> parts = strings(names.nodes("items"));
        names.done();
        if (lastIsMember) {
            parts = parts.subList(0, Math.max(0, parts.size() - 1));
        }
        if (parts.isEmpty() || parts.size() > 3) {
            throw UnanalyzableStatementException.unsupported("object name");
        }
        String name = parts.getLast();
        String schema = parts.size() >= 2 ? parts.get(parts.size() - 2) : null;
        out.relations.add(new RelationRef(schema, name, access));
    }

    // ---------------------------------------------------------------- expressions

    private void expr(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        if (n == null) {
            return;
        }
        enter();
        try {
            switch (n.type) {
                case "A_Const", "ParamRef", "SQLValueFunction", "SetToDefault", "CurrentOfExpr", "A_Star" -> inert(n.all());
                case "ColumnRef" -> {
                    inert(n.raw("fields"));
                    n.scalars("location");
                }
                case "A_Expr" -> {
                    inert(n.raw("name"));
                    expr(n.node("lexpr"), scope);
                    expr(n.node("rexpr"), scope);
                    n.scalars("kind", "location");
                }
                case "BoolExpr" -> {
                    exprs(n.nodes("args"), scope);
                    n.scalars("boolop", "location");
                }
                case "List" -> exprs(n.nodes("items"), scope);
                case "TypeCast" -> {
                    expr(n.node("arg"), scope);
                    typeName(n.object("typeName", "TypeName"));
                    n.scalars("location");
                }
                case "FuncCall" -> funcCall(n, scope);
                case "NamedArgExpr" -> {
                    expr(n.node("arg"), scope);
                    n.scalars("name", "argnumber", "location");
                }
                case "SubLink" -> {
                    expr(n.node("testexpr"), scope);
                    inert(n.raw("operName"));
                    subquery(n.node("subselect"), scope, "SubLink.subselect");
                    n.scalars("subLinkType", "subLinkId", "location");
                }
                case "CaseExpr" -> {
                    expr(n.node("arg"), scope);
                    for (ParseNode w : n.nodes("args")) {
                        ParseNode when = require(w, "CaseWhen", "CaseExpr.args");
                        expr(when.node("expr"), scope);
                        expr(when.node("result"), scope);
                        when.scalars("location");
                        when.done();
                    }
                    expr(n.node("defresult"), scope);
                    n.scalars("location");
                }
                case "NullTest" -> {
                    expr(n.node("arg"), scope);
                    n.scalars("nulltesttype", "argisrow", "location");
                }
                case "BooleanTest" -> {
                    expr(n.node("arg"), scope);
                    n.scalars("booltesttype", "location");
                }
                case "CoalesceExpr", "GroupingFunc" -> {
                    exprs(n.nodes("args"), scope);
                    n.scalars("location");
                }
                case "MinMaxExpr" -> {
                    exprs(n.nodes("args"), scope);
                    n.scalars("op", "location");
                }
                case "GroupingSet" -> {
                    exprs(n.nodes("content"), scope);
                    n.scalars("kind", "location");
                }
                case "RowExpr" -> {
                    exprs(n.nodes("args"), scope);
                    inert(n.raw("colnames"));
                    n.scalars("row_format", "location");
                }
                case "A_ArrayExpr" -> {
                    exprs(n.nodes("elements"), scope);
                    n.scalars("location");
                }
                case "A_Indirection" -> {
                    expr(n.node("arg"), scope);
                    for (ParseNode i : n.nodes("indirection")) {
                        indirection(i, scope);
                    }
                }
                case "A_Indices" -> {
                    expr(n.node("lidx"), scope);
                    expr(n.node("uidx"), scope);
                    n.scalars("is_slice");
                }
                case "CollateClause" -> {
                    expr(n.node("arg"), scope);
                    inert(n.raw("collname"));
                    n.scalars("location");
                }
                case "MultiAssignRef" -> {
                    expr(n.node("source"), scope);
                    n.scalars("colno", "ncolumns");
                }
                case "XmlExpr" -> {
                    targetList(n.nodes("named_args"), scope);
                    inert(n.raw("arg_names"));
                    exprs(n.nodes("args"), scope);
                    n.scalars("op", "name", "xmloption", "location");
                }
                case "XmlSerialize" -> {
                    expr(n.node("expr"), scope);
                    typeName(n.object("typeName", "TypeName"));
                    n.scalars("xmloption", "location");
                }
                default -> throw UnanalyzableStatementException.unsupported(n.type);
            }
            n.done();
        } finally {
            leave();
        }
    }

    private void exprs(List<ParseNode> nodes, Scope scope) throws UnanalyzableStatementException {
        for (ParseNode n : nodes) {
            expr(n, scope);
        }
    }

    private void indirection(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        if (n == null) {
            return;
        }
        switch (n.type) {
            case "String", "A_Star" -> n.all();
            case "A_Indices" -> {
                expr(n, scope);
                return;
            }
            default -> throw UnanalyzableStatementException.unsupported(n.type + " in indirection");
        }
        n.done();
    }

    /**
     * Functions that write (nextval, setval: PostgreSQL asks UPDATE or USAGE of the sequence)
     * or read (currval, pg_sequence_last_value) the sequence their first argument names as a
     * string: the relation is in a literal, not in the grammar.
     */
    private static final Map<String, Access> SEQUENCE_FUNCTIONS = Map.of("nextval", Access.WRITE, "setval", Access.WRITE,
            "currval", Access.READ, "pg_sequence_last_value", Access.READ);

    private void funcCall(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        FunctionRef function = functionName(n.nodes("funcname"));
        out.functions.add(function);
        List<ParseNode> args = n.nodes("args");
        if (function.name().equals("pg_notify")) {
            out.commands.add(Command.NOTIFY); // NOTIFY channel, payload as a function
        }
        Access sequenceAccess = SEQUENCE_FUNCTIONS.get(function.name());
        if (sequenceAccess != null) {
            sequenceArgument(args.isEmpty() ? null : args.getFirst(), sequenceAccess);
        }
        exprs(args, scope);
        for (ParseNode s : n.nodes("agg_order")) {
            sortBy(require(s, "SortBy", "FuncCall.agg_order"), scope);
        }
        expr(n.node("agg_filter"), scope);
        ParseNode over = n.object("over", "WindowDef");
        if (over != null) {
            windowDef(over, scope);
        }
        n.scalars("agg_within_group", "agg_star", "agg_distinct", "func_variadic", "funcformat", "location");
        n.done();
    }

    /**
     * The sequence of nextval('s.name') and the like: a string literal (also cast, as in
     * 's'::regclass) read as regclassin reads it. Anything else (an OID, a parameter, an
     * expression) may name any sequence.
     */
    private void sequenceArgument(ParseNode arg, Access access) throws UnanalyzableStatementException {
        ParseNode literal = arg;
        if (literal != null && literal.type.equals("TypeCast")) {
            literal = literal.node("arg");
        }
        String text = null;
        if (literal != null && literal.type.equals("A_Const")) {
            JsonNode c = literal.all();
            if (c.has("sval")) {
                text = c.path("sval").path("sval").asText("");
            }
        }
        List<String> parts = text == null || text.strip().chars().allMatch(Character::isDigit) ? null : qualifiedName(text);
        if (parts == null) {
            out.flags.add(Flag.ALL_RELATIONS);
        } else {
            out.relations.add(new RelationRef(parts.size() >= 2 ? parts.get(parts.size() - 2) : null, parts.getLast(), access));
        }
        if (access == Access.WRITE) {
            out.commands.add(Command.UPDATE);
        }
    }

    /**
     * A dotted name in a string, split as PostgreSQL's SplitIdentifierString does for
     * regclassin: white space around the parts, "quoted" parts kept exactly ("" is a quote),
     * unquoted parts in ASCII lower case, every part cut to 63 bytes.
     */
    static List<String> qualifiedName(String text) throws UnanalyzableStatementException {
        List<String> parts = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (true) {
            while (i < n && " \t\n\r\f\u000B".indexOf(text.charAt(i)) >= 0) {
                i++;
            }
            StringBuilder part = new StringBuilder();
            if (i < n && text.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw UnanalyzableStatementException.unsupported("sequence name");
                    }
                    char c = text.charAt(i++);
                    if (c == '"') {
                        if (i < n && text.charAt(i) == '"') {
                            i++;
                        } else {
                            break;
                        }
                    }
                    part.append(c);
                }
            } else {
                while (i < n && text.charAt(i) != '.' && " \t\n\r\f\u000B".indexOf(text.charAt(i)) < 0) {
                    char c = text.charAt(i++);
                    part.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
                }
            }
            if (part.isEmpty()) {
                throw UnanalyzableStatementException.unsupported("sequence name");
            }
            parts.add(truncate(part.toString()));
            while (i < n && " \t\n\r\f\u000B".indexOf(text.charAt(i)) >= 0) {
                i++;
            }
            if (i >= n) {
                break;
            }
            if (text.charAt(i) != '.') {
                throw UnanalyzableStatementException.unsupported("sequence name");
            }
            i++;
        }
        if (parts.size() > 3) {
            throw UnanalyzableStatementException.unsupported("sequence name");
        }
        return parts;
    }

    /** An identifier as PostgreSQL keeps it: at most NAMEDATALEN - 1 = 63 bytes, cut at a character boundary. */
    private static String truncate(String identifier) {
        byte[] utf8 = identifier.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (utf8.length <= 63) {
            return identifier;
        }
        int end = 63;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--;
        }
        return new String(utf8, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    }

    private FunctionRef functionName(List<ParseNode> names) throws UnanalyzableStatementException {
        List<String> parts = strings(names);
        if (parts.isEmpty() || parts.size() > 3) {
            throw UnanalyzableStatementException.unsupported("function name");
        }
        return new FunctionRef(parts.size() >= 2 ? parts.get(parts.size() - 2) : null, parts.getLast());
    }

    private void sortBy(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        expr(n.node("node"), scope);
        inert(n.raw("useOp"));
        n.scalars("sortby_dir", "sortby_nulls", "location");
        n.done();
    }

    private void windowDef(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        exprs(n.nodes("partitionClause"), scope);
        for (ParseNode s : n.nodes("orderClause")) {
            sortBy(require(s, "SortBy", "WindowDef.orderClause"), scope);
        }
        expr(n.node("startOffset"), scope);
        expr(n.node("endOffset"), scope);
        n.scalars("name", "refname", "frameOptions", "location");
        n.done();
    }

    private void typeName(ParseNode n) throws UnanalyzableStatementException {
        if (n != null) {
            inert(n.all());
        }
    }

    // ---------------------------------------------------------------- utility statements

    private void truncate(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.TRUNCATE);
        for (ParseNode r : n.nodes("relations")) {
            rangeVar(require(r, "RangeVar", "TruncateStmt.relations"), Access.WRITE, null);
        }
        n.scalars("restart_seqs", "behavior");
        n.done();
    }

    private void copy(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        boolean from = n.bool("is_from");
        boolean program = n.bool("is_program");
        String target = n.text("filename");
        out.command(from ? Command.COPY_FROM : Command.COPY_TO);
        CopyEndpoint endpoint = program ? CopyEndpoint.PROGRAM : target.isEmpty() ? CopyEndpoint.CLIENT : CopyEndpoint.SERVER_FILE;
        if (endpoint == CopyEndpoint.PROGRAM) {
            out.commands.add(Command.COPY_PROGRAM);
            out.flags.add(Flag.COPY_PROGRAM);
        } else if (endpoint == CopyEndpoint.SERVER_FILE) {
            out.commands.add(Command.COPY_FILE);
            out.flags.add(Flag.COPY_FILE);
        }
        ParseNode relation = n.object("relation", "RangeVar");
        if (relation != null) {
            rangeVar(relation, from ? Access.WRITE : Access.READ, null);
        }
        Optional<StatementAnalysis> query = Optional.empty();
        ParseNode q = n.node("query");
        if (q != null) {
            if (from) {
                throw UnanalyzableStatementException.unsupported("COPY (query) FROM");
            }
            StatementAnalysis inner = nested(q, scope, "COPY");
            mergeExecuted(inner);
            query = Optional.of(inner);
        }
        if (relation == null && q == null) {
            throw UnanalyzableStatementException.unsupported("COPY without a relation or query");
        }
        inert(n.raw("attlist"));
        String format = "text";
        for (ParseNode o : n.nodes("options")) {
            ParseNode option = require(o, "DefElem", "CopyStmt.options");
            JsonNode arg = option.raw("arg");
            inert(arg);
            if (option.text("defname").equals("format") && arg != null) {
                format = arg.path("String").path("sval").asText(format).toLowerCase(Locale.ROOT);
            }
            option.scalars("defnamespace", "defaction", "location");
            option.done();
        }
        expr(n.node("whereClause"), scope);
        n.done();
        out.detail = new StatementDetail.Copy(from, endpoint, target, format, query);
    }

    private void explain(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.EXPLAIN);
        boolean analyze = false;
        for (ParseNode o : n.nodes("options")) {
            ParseNode option = require(o, "DefElem", "ExplainStmt.options");
            String name = option.text("defname");
            JsonNode arg = option.raw("arg");
            inert(arg);
            option.scalars("defnamespace", "defaction", "location");
            option.done();
            if (name.equals("analyze")) {
                analyze = explainFlag(arg);
            }
        }
        StatementAnalysis inner = nested(n.node("query"), scope, "EXPLAIN");
        if (analyze) {
            mergeExecuted(inner);
        } else {
            mergeReferenced(inner);
        }
        n.done();
        out.detail = new StatementDetail.Explain(analyze, inner);
    }

    /**
     * EXPLAIN's ANALYZE option as PostgreSQL's defGetBoolean reads it; anything that is not
     * clearly off counts as on, so a statement is never taken to be only planned when it runs.
     */
    private static boolean explainFlag(JsonNode arg) {
        if (arg == null) {
            return true;
        }
        String value = arg.has("String") ? arg.path("String").path("sval").asText("")
                : arg.has("Integer") ? String.valueOf(arg.path("Integer").path("ival").asInt(0))
                : arg.has("Boolean") ? String.valueOf(arg.path("Boolean").path("boolval").asBoolean(false)) : "";
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "false", "off", "0", "no", "of", "fa", "fal", "fals", "n" -> false;
            default -> true;
        };
    }

    private void prepare(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.PREPARE);
        String name = n.text("name");
        inert(n.raw("argtypes"));
        StatementAnalysis inner = nested(n.node("query"), scope, "PREPARE");
        mergeExecuted(inner);
        n.done();
        out.detail = new StatementDetail.Prepare(name, inner);
    }

    private void execute(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.EXECUTE);
        String name = n.text("name");
        exprs(n.nodes("params"), scope);
        n.done();
        out.prepared = name;
        out.detail = new StatementDetail.Execute(name);
    }

    private void deallocate(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DEALLOCATE);
        String name = n.text("name");
        n.done();
        out.detail = new StatementDetail.Deallocate(name.isEmpty() ? Optional.empty() : Optional.of(name));
    }

    private void declare(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DECLARE);
        String cursor = n.text("portalname");
        long options = n.number("options", 0);
        StatementAnalysis inner = nested(n.node("query"), scope, "DECLARE");
        mergeExecuted(inner);
        n.done();
        // parsenodes.h: CURSOR_OPT_BINARY 0x0001, CURSOR_OPT_HOLD 0x0020
        out.detail = new StatementDetail.Declare(cursor, (options & 0x20) != 0, (options & 0x01) != 0, inner);
    }

    private void fetch(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.FETCH);
        String cursor = n.text("portalname");
        boolean move = n.bool("ismove");
        n.scalars("direction", "howMany");
        n.done();
        out.detail = new StatementDetail.Fetch(cursor, move);
    }

    private void close(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.CLOSE);
        String cursor = n.text("portalname");
        n.done();
        out.detail = new StatementDetail.Close(cursor.isEmpty() ? Optional.empty() : Optional.of(cursor));
    }

    /** SET / RESET, or ALTER SYSTEM's setting ({@code forSystem}). */
    private StatementDetail.Setting variableSet(ParseNode n, boolean forSystem) throws UnanalyzableStatementException {
        String kind = n.text("kind");
        String name = n.text("name").toLowerCase(Locale.ROOT);
        boolean local = n.bool("is_local");
        List<String> values = new ArrayList<>();
        for (ParseNode arg : n.nodes("args")) {
            values.add(settingValue(arg));
        }
        n.done();
        SettingChange change = switch (kind) {
            case "VAR_SET_VALUE" -> SettingChange.SET;
            case "VAR_SET_DEFAULT" -> SettingChange.SET_DEFAULT;
            case "VAR_SET_CURRENT" -> SettingChange.SET_FROM_CURRENT;
            case "VAR_SET_MULTI" -> SettingChange.SET_MULTI;
            case "VAR_RESET" -> SettingChange.RESET;
            case "VAR_RESET_ALL" -> SettingChange.RESET_ALL;
            default -> throw UnanalyzableStatementException.unsupported("VariableSetStmt.kind " + kind);
        };
        StatementDetail.Setting setting = new StatementDetail.Setting(change, name, values, local);
        if (!forSystem) {
            boolean roleSwitch = change == SettingChange.RESET_ALL || name.equals("role") || name.equals("session_authorization");
            out.command(roleSwitch ? Command.ROLE_SWITCH
                    : change == SettingChange.RESET ? Command.RESET : Command.SET);
            out.detail = setting;
        }
        return setting;
    }

    private String settingValue(ParseNode arg) throws UnanalyzableStatementException {
        if (arg == null) {
            throw UnanalyzableStatementException.unsupported("empty setting value");
        }
        switch (arg.type) {
            case "A_Const" -> {
                JsonNode c = arg.all();
                String value = c.has("sval") ? c.path("sval").path("sval").asText("")
                        : c.has("ival") ? String.valueOf(c.path("ival").path("ival").asLong(0))
                        : c.has("fval") ? c.path("fval").path("fval").asText("")
                        : c.has("boolval") ? String.valueOf(c.path("boolval").path("boolval").asBoolean(false))
                        : c.has("bsval") ? c.path("bsval").path("bsval").asText("")
                        : null;
                inert(c);
                if (value == null) {
                    throw UnanalyzableStatementException.unsupported("setting value NULL");
                }
                return value;
            }
            case "TypeCast" -> {
                // SET TIME ZONE INTERVAL '+1' HOUR: the interval literal
                ParseNode inner = arg.node("arg");
                typeName(arg.object("typeName", "TypeName"));
                arg.scalars("location");
                arg.done();
                return inner == null ? "" : settingValue(inner);
            }
            case "DefElem" -> {
                // SET TRANSACTION ISOLATION LEVEL ...: option=value
                String option = arg.text("defname");
                ParseNode value = arg.node("arg");
                arg.scalars("defnamespace", "defaction", "location");
                arg.done();
                return value == null ? option : option + "=" + settingValue(value);
            }
            default -> throw UnanalyzableStatementException.unsupported(arg.type + " as a setting value");
        }
    }

    private void show(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.SHOW);
        String name = n.text("name").toLowerCase(Locale.ROOT);
        n.done();
        out.detail = new StatementDetail.Show(name);
    }

    private void discard(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DISCARD);
        String target = n.text("target");
        n.done();
        DiscardTarget what = switch (target) {
            case "DISCARD_ALL", "" -> DiscardTarget.ALL;
            case "DISCARD_PLANS" -> DiscardTarget.PLANS;
            case "DISCARD_SEQUENCES" -> DiscardTarget.SEQUENCES;
            case "DISCARD_TEMP" -> DiscardTarget.TEMP;
            default -> throw UnanalyzableStatementException.unsupported("DiscardStmt.target " + target);
        };
        if (what == DiscardTarget.ALL) {
            out.commands.add(Command.ROLE_SWITCH); // DISCARD ALL includes SET SESSION AUTHORIZATION DEFAULT and RESET ALL
        }
        out.detail = new StatementDetail.Discard(what);
    }

    private void transaction(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.TRANSACTION);
        String kind = n.text("kind");
        TransactionKind what = TRANSACTION_KINDS.get(kind);
        if (what == null) {
            throw UnanalyzableStatementException.unsupported("TransactionStmt.kind " + kind);
        }
        inert(n.raw("options"));
        String savepoint = n.text("savepoint_name");
        String gid = n.text("gid");
        n.scalars("chain");
        n.done();
        out.detail = new StatementDetail.Transaction(what, savepoint.isEmpty() ? gid : savepoint);
    }

    private void constraintsSet(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.TRANSACTION);
        for (ParseNode c : n.nodes("constraints")) {
            require(c, "RangeVar", "ConstraintsSetStmt.constraints").all(); // constraint names, not relations
        }
        n.scalars("deferred");
        n.done();
        out.detail = new StatementDetail.Transaction(TransactionKind.SET_CONSTRAINTS, "");
    }

    private void doBlock(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DO);
        String language = "plpgsql";
        for (ParseNode a : n.nodes("args")) {
            ParseNode arg = require(a, "DefElem", "DoStmt.args");
            String name = arg.text("defname");
            ParseNode value = arg.node("arg");
            arg.scalars("defnamespace", "defaction", "location");
            arg.done();
            if (value == null || !value.type.equals("String")) {
                throw UnanalyzableStatementException.unsupported("DoStmt.args");
            }
            String text = value.text("sval");
            value.done();
            if (name.equals("language")) {
                language = text;
            } else if (!name.equals("as")) {
                throw UnanalyzableStatementException.unsupported("DO option " + name);
            }
        }
        n.done();
        out.detail = new StatementDetail.Do(language);
    }

    private void call(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.CALL);
        funcCall(required(n.object("funccall", "FuncCall"), "CallStmt.funccall"), scope);
        n.done();
    }

    private void channel(ParseNode n) throws UnanalyzableStatementException {
        out.command(switch (n.type) {
            case "ListenStmt" -> Command.LISTEN;
            case "NotifyStmt" -> Command.NOTIFY;
            default -> Command.UNLISTEN;
        });
        String name = n.text("conditionname");
        String payload = n.type.equals("NotifyStmt") ? n.text("payload") : "";
        n.done();
        out.detail = new StatementDetail.Channel(name.isEmpty() ? "*" : name,
                payload.isEmpty() ? Optional.empty() : Optional.of(payload));
    }

    private void lock(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.LOCK);
        out.flags.add(Flag.LOCKING);
        // lockdefs.h: AccessShareLock = 1 needs only SELECT; every stronger mode needs a write privilege.
        Access access = n.number("mode", 8) == 1 ? Access.READ : Access.WRITE;
        for (ParseNode r : n.nodes("relations")) {
            rangeVar(require(r, "RangeVar", "LockStmt.relations"), access, null);
        }
        n.scalars("nowait");
        n.done();
    }

    private void vacuum(ParseNode n) throws UnanalyzableStatementException {
        boolean vacuum = n.bool("is_vacuumcmd");
        out.command(vacuum ? Command.VACUUM : Command.ANALYZE);
        inert(n.raw("options"));
        List<ParseNode> rels = n.nodes("rels");
        for (ParseNode r : rels) {
            ParseNode rel = require(r, "VacuumRelation", "VacuumStmt.rels");
            rangeVar(required(rel.object("relation", "RangeVar"), "VacuumRelation.relation"),
                    vacuum ? Access.WRITE : Access.READ, null);
            inert(rel.raw("va_cols"));
            rel.scalars("oid");
            rel.done();
        }
        if (rels.isEmpty()) {
            out.flags.add(Flag.ALL_RELATIONS);
        }
        n.done();
    }

    private void alterSystem(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.ALTER_SYSTEM);
        out.detail = variableSet(required(n.object("setstmt", "VariableSetStmt"), "AlterSystemStmt.setstmt"), true);
        n.done();
    }

    private void cluster(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.MAINTENANCE);
        ParseNode relation = n.object("relation", "RangeVar");
        if (relation != null) {
            rangeVar(relation, Access.WRITE, null);
        } else {
            out.flags.add(Flag.ALL_RELATIONS);
        }
        inert(n.raw("params"));
        n.scalars("indexname");
        n.done();
    }

    private void reindex(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.MAINTENANCE);
        ParseNode relation = n.object("relation", "RangeVar");
        if (relation != null) {
            rangeVar(relation, Access.WRITE, null);
        } else {
            out.flags.add(Flag.ALL_RELATIONS);
        }
        inert(n.raw("params"));
        n.scalars("kind", "name");
        n.done();
    }

    private void refreshMatView(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.MAINTENANCE);
        rangeVar(required(n.object("relation", "RangeVar"), "RefreshMatViewStmt.relation"), Access.WRITE, null);
        n.scalars("concurrent", "skipData");
        n.done();
    }

    // ---------------------------------------------------------------- privileges and DDL

    private void grant(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.GRANT);
        String target = n.text("targtype");
        String objtype = n.text("objtype");
        List<ParseNode> objects = n.nodes("objects");
        if (target.equals("ACL_TARGET_ALL_IN_SCHEMA")) {
            out.flags.add(Flag.ALL_RELATIONS);
        }
        for (ParseNode o : objects) {
            if (o != null && o.type.equals("RangeVar")) {
                rangeVar(o, Access.WRITE, null); // GRANT ... ON TABLE t changes t's privileges
            } else if (o != null) {
                inert(o);
            }
        }
        inert(n.raw("privileges"));
        inert(n.raw("grantees"));
        inert(n.raw("grantor"));
        n.scalars("is_grant", "grant_option", "behavior");
        n.done();
        if (objtype.isEmpty()) {
            throw UnanalyzableStatementException.unsupported("GrantStmt without an object type");
        }
    }

    private void alterDefaultPrivileges(ParseNode n) throws UnanalyzableStatementException {
        inert(n.raw("options"));
        grant(required(n.object("action", "GrantStmt"), "AlterDefaultPrivilegesStmt.action"));
        n.done();
    }

    /** A statement whose fields are all names, types, constants and options. */
    private void inertStatement(ParseNode n, Command command) throws UnanalyzableStatementException {
        out.command(command);
        inert(n.all());
    }

    private void create(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        rangeVar(required(n.object("relation", "RangeVar"), "CreateStmt.relation"), Access.WRITE, null);
        for (ParseNode e : n.nodes("tableElts")) {
            tableElement(e, scope);
        }
        for (ParseNode parent : n.nodes("inhRelations")) {
            // INHERITS (p) and PARTITION OF p change what p holds.
            rangeVar(require(parent, "RangeVar", "CreateStmt.inhRelations"), Access.WRITE, null);
        }
        partitionBound(n.object("partbound", "PartitionBoundSpec"), scope);
        ParseNode spec = n.object("partspec", "PartitionSpec");
        if (spec != null) {
            for (ParseNode p : spec.nodes("partParams")) {
                ParseNode elem = require(p, "PartitionElem", "PartitionSpec.partParams");
                expr(elem.node("expr"), scope);
                inert(elem.raw("collation"));
                inert(elem.raw("opclass"));
                elem.scalars("name", "location");
                elem.done();
            }
            spec.scalars("strategy", "location");
            spec.done();
        }
        typeName(n.object("ofTypename", "TypeName"));
        for (ParseNode c : n.nodes("constraints")) {
            constraint(require(c, "Constraint", "CreateStmt.constraints"), scope);
        }
        inert(n.raw("options"));
        n.scalars("oncommit", "tablespacename", "accessMethod", "if_not_exists");
        n.done();
    }

    private void createForeignTable(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        create(required(n.object("base", "CreateStmt"), "CreateForeignTableStmt.base"), scope);
        inert(n.raw("options"));
        n.scalars("servername");
        n.done();
    }

    private void tableElement(ParseNode e, Scope scope) throws UnanalyzableStatementException {
        if (e == null) {
            throw UnanalyzableStatementException.unsupported("empty table element");
        }
        switch (e.type) {
            case "ColumnDef" -> columnDef(e, scope);
            case "Constraint" -> constraint(e, scope);
            case "TableLikeClause" -> {
                rangeVar(required(e.object("relation", "RangeVar"), "TableLikeClause.relation"), Access.READ, null);
                e.scalars("options", "relationOid");
                e.done();
            }
            default -> throw UnanalyzableStatementException.unsupported(e.type);
        }
    }

    private void partitionBound(ParseNode bound, Scope scope) throws UnanalyzableStatementException {
        if (bound == null) {
            return;
        }
        exprs(bound.nodes("listdatums"), scope);
        exprs(bound.nodes("lowerdatums"), scope);
        exprs(bound.nodes("upperdatums"), scope);
        bound.scalars("strategy", "is_default", "modulus", "remainder", "location");
        bound.done();
    }

    private void columnDef(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        typeName(n.object("typeName", "TypeName"));
        expr(n.node("raw_default"), scope);
        expr(n.node("cooked_default"), scope);
        ParseNode sequence = n.object("identitySequence", "RangeVar");
        if (sequence != null) {
            rangeVar(sequence, Access.WRITE, null);
        }
        ParseNode collate = n.object("collClause", "CollateClause");
        if (collate != null) {
            inert(collate.all());
        }
        for (ParseNode c : n.nodes("constraints")) {
            constraint(require(c, "Constraint", "ColumnDef.constraints"), scope);
        }
        inert(n.raw("fdwoptions"));
        n.scalars("colname", "compression", "inhcount", "is_local", "is_not_null", "is_from_type", "storage",
                "identity", "generated", "collOid", "location");
        n.done();
    }

    private void constraint(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        expr(n.node("raw_expr"), scope); // CHECK, DEFAULT, GENERATED ALWAYS AS
        expr(n.node("where_clause"), scope);
        ParseNode references = n.object("pktable", "RangeVar");
        if (references != null) {
            rangeVar(references, Access.READ, null); // a foreign key reads the referenced table
        }
        for (ParseNode x : n.nodes("exclusions")) {
            ParseNode pair = require(x, "List", "Constraint.exclusions");
            List<ParseNode> items = pair.nodes("items");
            pair.done();
            if (items.size() != 2) {
                throw UnanalyzableStatementException.unsupported("Constraint.exclusions");
            }
            indexElem(require(items.get(0), "IndexElem", "Constraint.exclusions"), scope);
            inert(items.get(1));
        }
        for (String names : List.of("keys", "including", "options", "fk_attrs", "pk_attrs", "fk_del_set_cols", "old_conpfeqop")) {
            inert(n.raw(names));
        }
        n.scalars("contype", "conname", "deferrable", "initdeferred", "location", "is_no_inherit", "cooked_expr",
                "generated_when", "nulls_not_distinct", "indexname", "indexspace", "reset_default_tblspc", "access_method",
                "fk_matchtype", "fk_upd_action", "fk_del_action", "old_pktable_oid", "skip_validation", "initially_valid");
        n.done();
    }

    private void indexElem(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        expr(n.node("expr"), scope);
        inert(n.raw("collation"));
        inert(n.raw("opclass"));
        inert(n.raw("opclassopts"));
        n.scalars("name", "indexcolname", "ordering", "nulls_ordering");
        n.done();
    }

    private void alterTable(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        rangeVar(required(n.object("relation", "RangeVar"), "AlterTableStmt.relation"), Access.WRITE, null);
        for (ParseNode c : n.nodes("cmds")) {
            ParseNode cmd = require(c, "AlterTableCmd", "AlterTableStmt.cmds");
            ParseNode owner = cmd.object("newowner", "RoleSpec");
            if (owner != null) {
                inert(owner.all());
            }
            ParseNode def = cmd.node("def");
            if (def != null) {
                switch (def.type) {
                    case "ColumnDef" -> columnDef(def, scope);
                    case "Constraint" -> constraint(def, scope);
                    case "RangeVar" -> rangeVar(def, Access.WRITE, null); // INHERIT / NO INHERIT parent
                    case "PartitionCmd" -> {
                        rangeVar(required(def.object("name", "RangeVar"), "PartitionCmd.name"), Access.WRITE, null);
                        partitionBound(def.object("bound", "PartitionBoundSpec"), scope);
                        def.scalars("concurrent");
                        def.done();
                    }
                    default -> {
                        if (INERT.contains(def.type) && !def.type.equals("TypeCast") && !def.type.equals("ColumnRef")) {
                            inert(def.all()); // options, statistics target, identity options, replica identity
                        } else {
                            expr(def, scope); // ALTER COLUMN ... SET DEFAULT expr
                        }
                    }
                }
            }
            cmd.scalars("subtype", "name", "num", "behavior", "missing_ok", "recurse");
            cmd.done();
        }
        n.scalars("objtype", "missing_ok");
        n.done();
    }

    private void drop(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        String type = n.text("removeType");
        for (ParseNode o : n.nodes("objects")) {
            if (RELATION_OBJECTS.contains(type)) {
                relationByName(o, Access.WRITE, false);
            } else if (RELATION_MEMBER_OBJECTS.contains(type)) {
                relationByName(o, Access.WRITE, true);
            } else if (o != null) {
                inert(o);
            }
        }
        n.scalars("behavior", "missing_ok", "concurrent");
        n.done();
    }

    private void index(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        rangeVar(required(n.object("relation", "RangeVar"), "IndexStmt.relation"), Access.WRITE, null);
        for (ParseNode e : n.nodes("indexParams")) {
            indexElem(require(e, "IndexElem", "IndexStmt.indexParams"), scope);
        }
        for (ParseNode e : n.nodes("indexIncludingParams")) {
            indexElem(require(e, "IndexElem", "IndexStmt.indexIncludingParams"), scope);
        }
        inert(n.raw("options"));
        expr(n.node("whereClause"), scope);
        inert(n.raw("excludeOpNames"));
        n.scalars("idxname", "accessMethod", "tableSpace", "idxcomment", "indexOid", "oldNode", "oldCreateSubid",
                "oldFirstRelfilenodeSubid", "unique", "nulls_not_distinct", "primary", "isconstraint", "deferrable",
                "initdeferred", "transformed", "concurrent", "if_not_exists", "reset_default_tblspc");
        n.done();
    }

    private void view(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        rangeVar(required(n.object("view", "RangeVar"), "ViewStmt.view"), Access.WRITE, null);
        inert(n.raw("aliases"));
        mergeReferenced(nested(n.node("query"), scope, "CREATE VIEW"));
        inert(n.raw("options"));
        n.scalars("replace", "withCheckOption");
        n.done();
    }

    private void createTableAs(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        ParseNode into = required(n.object("into", "IntoClause"), "CreateTableAsStmt.into");
        boolean withData = !into.peekBool("skipData");
        StatementAnalysis query = nested(n.node("query"), scope, "CREATE TABLE AS");
        if (withData) {
            mergeExecuted(query);
        } else {
            mergeReferenced(query);
        }
        intoClause(into);
        n.scalars("objtype", "is_select_into", "if_not_exists");
        n.done();
        out.detail = new StatementDetail.CreateAs(withData, query);
    }

    private void sequence(ParseNode n, String type) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        rangeVar(required(n.object("sequence", "RangeVar"), type + ".sequence"), Access.WRITE, null);
        inert(n.raw("options"));
        if (type.equals("CreateSeqStmt")) {
            n.scalars("ownerId", "for_identity", "if_not_exists");
        } else {
            n.scalars("for_identity", "missing_ok");
        }
        n.done();
    }

    private void createSchema(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        if (!n.nodes("schemaElts").isEmpty()) {
            throw UnanalyzableStatementException.unsupported("CREATE SCHEMA with schema elements");
        }
        inert(n.raw("authrole"));
        n.scalars("schemaname", "if_not_exists");
        n.done();
    }

    private void rename(ParseNode n) throws UnanalyzableStatementException {
        String renameType = n.text("renameType");
        out.command(renameType.equals("OBJECT_ROLE") ? Command.ROLE_ADMIN : Command.DDL);
        ParseNode relation = n.object("relation", "RangeVar");
        String newName = n.text("newname");
        if (relation != null) {
            String schema = relation.peekText("schemaname");
            rangeVar(relation, Access.WRITE, null);
            if (RELATION_OBJECTS.contains(renameType) && !newName.isEmpty()) {
                // The new name is a relation too: renaming to a name a policy knows changes what that name means.
                out.relations.add(new RelationRef(schema.isEmpty() ? null : schema, newName, Access.WRITE));
            }
        }
        ParseNode object = n.node("object");
        if (object != null) {
            inert(object.all());
        }
        n.scalars("relationType", "subname", "behavior", "missing_ok");
        n.done();
    }

    private void commentOrLabel(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        String type = n.text("objtype");
        ParseNode object = n.node("object");
        if (object != null && RELATION_OBJECTS.contains(type)) {
            relationByName(object, Access.WRITE, false);
        } else if (object != null && RELATION_MEMBER_OBJECTS.contains(type)) {
            relationByName(object, Access.WRITE, true);
        } else if (object != null) {
            inert(object.all());
        }
        if (n.type.equals("CommentStmt")) {
            n.scalars("comment");
        } else {
            n.scalars("provider", "label");
        }
        n.done();
    }

    private void createFunction(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        inert(n.raw("funcname"));
        for (ParseNode p : n.nodes("parameters")) {
            ParseNode param = require(p, "FunctionParameter", "CreateFunctionStmt.parameters");
            typeName(param.object("argType", "TypeName"));
            expr(param.node("defexpr"), scope);
            param.scalars("name", "mode");
            param.done();
        }
        typeName(n.object("returnType", "TypeName"));
        inert(n.raw("options")); // the body of a string-bodied function (AS '...') is not analysed
        ParseNode body = n.node("sql_body");
        if (body != null) {
            sqlBody(body, scope);
        }
        n.scalars("is_procedure", "replace");
        n.done();
    }

    /** BEGIN ATOMIC ... END (a List of a List of statements) or RETURN expr. */
    private void sqlBody(ParseNode body, Scope scope) throws UnanalyzableStatementException {
        enter();
        try {
            switch (body.type) {
                case "ReturnStmt" -> {
                    expr(body.node("returnval"), scope);
                    body.done();
                }
                case "List" -> {
                    for (ParseNode item : body.nodes("items")) {
                        if (item != null && item.type.equals("List")) {
                            sqlBody(item, scope);
                        } else if (item != null) {
                            StatementAnalysis stored = nested(item, scope, "function body");
                            // Stored, not run now: relations as the body will use them, calls listed.
                            out.relations.addAll(stored.relations());
                            out.functions.addAll(stored.functions());
                        }
                    }
                    body.done();
                }
                default -> throw UnanalyzableStatementException.unsupported(body.type + " in a function body");
            }
        } finally {
            leave();
        }
    }

    private void createTrigger(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        rangeVar(required(n.object("relation", "RangeVar"), "CreateTrigStmt.relation"), Access.WRITE, null);
        out.functions.add(functionName(n.nodes("funcname"))); // runs on every matching change
        inert(n.raw("args"));
        inert(n.raw("columns"));
        expr(n.node("whenClause"), scope);
        inert(n.raw("transitionRels"));
        ParseNode constrained = n.object("constrrel", "RangeVar");
        if (constrained != null) {
            rangeVar(constrained, Access.READ, null);
        }
        n.scalars("replace", "isconstraint", "trigname", "row", "timing", "events", "deferrable", "initdeferred");
        n.done();
    }

    private void createDomain(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        inert(n.raw("domainname"));
        typeName(n.object("typeName", "TypeName"));
        ParseNode collate = n.object("collClause", "CollateClause");
        if (collate != null) {
            inert(collate.all());
        }
        for (ParseNode c : n.nodes("constraints")) {
            constraint(require(c, "Constraint", "CreateDomainStmt.constraints"), scope);
        }
        n.done();
    }

    private void alterDomain(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        inert(n.raw("typeName"));
        ParseNode def = n.node("def");
        if (def != null && def.type.equals("Constraint")) {
            constraint(def, scope);
        } else {
            expr(def, scope); // SET DEFAULT expr
        }
        n.scalars("subtype", "name", "behavior", "missing_ok");
        n.done();
    }

    private void compositeType(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        ParseNode type = required(n.object("typevar", "RangeVar"), "CompositeTypeStmt.typevar");
        inert(type.all()); // a type's name, not a relation that holds rows
        for (ParseNode d : n.nodes("coldeflist")) {
            columnDef(require(d, "ColumnDef", "CompositeTypeStmt.coldeflist"), scope);
        }
        n.done();
    }

    private void alterObjectSchema(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        String type = n.text("objectType");
        String newSchema = n.text("newschema");
        ParseNode relation = n.object("relation", "RangeVar");
        if (relation != null) {
            String name = relation.peekText("relname");
            rangeVar(relation, Access.WRITE, null);
            if (RELATION_OBJECTS.contains(type) && !name.isEmpty()) {
                out.relations.add(new RelationRef(newSchema, name, Access.WRITE));
            }
        }
        ParseNode object = n.node("object");
        if (object != null) {
            inert(object.all());
        }
        n.scalars("missing_ok");
        n.done();
    }

    private void alterOwner(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        ParseNode relation = n.object("relation", "RangeVar");
        if (relation != null) {
            rangeVar(relation, Access.WRITE, null);
        }
        ParseNode object = n.node("object");
        if (object != null) {
            inert(object.all());
        }
        inert(n.raw("newowner"));
        n.scalars("objectType");
        n.done();
    }

    private void policy(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        rangeVar(required(n.object("table", "RangeVar"), n.type + ".table"), Access.WRITE, null);
        inert(n.raw("roles"));
        expr(n.node("qual"), scope);
        expr(n.node("with_check"), scope);
        n.scalars("policy_name", "cmd_name", "permissive");
        n.done();
    }

    private void createStats(ParseNode n, Scope scope) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        inert(n.raw("defnames"));
        inert(n.raw("stat_types"));
        for (ParseNode e : n.nodes("exprs")) {
            ParseNode elem = require(e, "StatsElem", "CreateStatsStmt.exprs");
            expr(elem.node("expr"), scope);
            elem.scalars("name");
            elem.done();
        }
        for (ParseNode r : n.nodes("relations")) {
            rangeVar(require(r, "RangeVar", "CreateStatsStmt.relations"), Access.WRITE, null);
        }
        n.scalars("stxcomment", "transformed", "if_not_exists");
        n.done();
    }

    private void createEventTrigger(ParseNode n) throws UnanalyzableStatementException {
        out.command(Command.DDL);
        out.functions.add(functionName(n.nodes("funcname")));
        inert(n.raw("whenclause"));
        n.scalars("trigname", "eventname");
        n.done();
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Checks a subtree that may hold only names, types, constants and options: every node
     * type in it must be in {@link #INERT}. A typed (unwrapped) field inside such a subtree
     * is walked the same way, which is sound because no INERT type has a field of a type
     * that could hold a relation, a call or a query.
     */
    private void inert(JsonNode value) throws UnanalyzableStatementException {
        if (value == null || value.isValueNode()) {
            return;
        }
        enter();
        try {
            if (value.isArray()) {
                for (JsonNode item : value) {
                    inert(item);
                }
                return;
            }
            for (var field : value.properties()) {
                if (ParseNode.isNodeType(field.getKey()) && !INERT.contains(field.getKey())) {
                    throw UnanalyzableStatementException.unsupported(field.getKey());
                }
                inert(field.getValue());
            }
        } finally {
            leave();
        }
    }

    private void inert(ParseNode node) throws UnanalyzableStatementException {
        if (node == null) {
            return;
        }
        if (!INERT.contains(node.type)) {
            throw UnanalyzableStatementException.unsupported(node.type);
        }
        inert(node.all());
    }

    private static List<String> strings(List<ParseNode> nodes) throws UnanalyzableStatementException {
        List<String> strings = new ArrayList<>(nodes.size());
        for (ParseNode n : nodes) {
            ParseNode s = require(n, "String", "name");
            strings.add(s.text("sval"));
            s.done();
        }
        return strings;
    }

    private static ParseNode require(ParseNode n, String type, String context) throws UnanalyzableStatementException {
        if (n == null || !n.type.equals(type)) {
            throw UnanalyzableStatementException.unsupported(n == null ? "empty " + context : n.type + " in " + context);
        }
        return n;
    }

    private static ParseNode required(ParseNode n, String context) throws UnanalyzableStatementException {
        if (n == null) {
            throw UnanalyzableStatementException.unsupported(context + " missing");
        }
        return n;
    }

    private void enter() throws UnanalyzableStatementException {
        if (++depth > MAX_DEPTH) {
            throw new UnanalyzableStatementException("the statement is nested too deeply (more than " + MAX_DEPTH + " levels)");
        }
    }

    private void leave() {
        depth--;
    }
}
