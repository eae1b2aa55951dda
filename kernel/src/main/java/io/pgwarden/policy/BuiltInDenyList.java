package io.pgwarden.policy;

import io.pgwarden.analysis.Command;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What no policy allows unless it names it explicitly (in {@code allow.commands},
 * {@code allow.functions} or {@code allow.relations}): ways out of the statement analysis
 * (code the gateway cannot read, SQL run from a string), out of the database (server files,
 * programs, large objects, other servers), and ways around the gateway's identity (role
 * switching, role and privilege administration). {@code ALL} and {@code *} do not lift
 * them; naming them does.
 */
final class BuiltInDenyList {

    private BuiltInDenyList() {
    }

    static final Set<Command> COMMANDS = EnumSet.of(
            Command.COPY_FILE,     // reads or writes files on the database server
            Command.COPY_PROGRAM,  // runs a program on the database server
            Command.ALTER_SYSTEM,  // rewrites the server's configuration
            Command.LOAD,          // loads a shared library into the server
            Command.DO,            // code the gateway cannot analyse
            Command.ROLE_SWITCH,   // SET ROLE / SESSION AUTHORIZATION to another role
            Command.ROLE_ADMIN,    // creates or changes roles
            Command.GRANT);        // hands out privileges

    /** Function names, refused in every schema (a same-named function elsewhere is refused too). */
    static final List<NamePattern> FUNCTIONS = List.of(
            // server files
            "pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_ls_*", "pg_file_*", "pg_logdir_ls",
            // large objects: server files (lo_import/lo_export) and data outside any table's policy
            "lo_*", "loread", "lowrite",
            // other servers
            "dblink*", "postgres_fdw_*",
            // SQL run from a string, or whole tables and schemas read by name
            "query_to_xml*", "query_to_xmlschema", "cursor_to_xml*", "table_to_xml*", "schema_to_xml*",
            "database_to_xml*", "ts_stat", "xpath_table",
            // settings, including role and search_path, changed out of the analysis' sight
            "set_config",
            // server process control
            "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile*", "pg_promote",
            "pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_start_backup",
            "pg_stop_backup",
            // replication: streams every change of every table
            "pg_create_*_replication_slot", "pg_drop_replication_slot", "pg_copy_*_replication_slot",
            "pg_logical_slot_*", "pg_replication_slot_advance", "pg_logical_emit_message",
            "pg_replication_origin_*",
            // other sessions' statements: every agent's session runs as the same upstream role
            "pg_stat_get_activity", "pg_stat_get_backend_activity",
            // statistics and catalog upkeep that changes what everyone sees
            "pg_stat_reset*", "pg_import_system_collations", "pg_log_backend_memory_contexts")
            .stream().map(NamePattern::of).toList();

    /** Catalog relations that hold secrets or other sessions' data. */
    static final List<NamePattern> RELATIONS = List.of(
            "pg_catalog.pg_authid", "pg_catalog.pg_shadow", "pg_catalog.pg_user_mapping", "pg_catalog.pg_user_mappings",
            "pg_catalog.pg_largeobject", "pg_catalog.pg_statistic", "pg_catalog.pg_statistic_ext_data",
            // the views over pg_statistic*: sample values (most_common_vals, histogram_bounds) of every column
            // the upstream role may read, whatever the policy allows
            "pg_catalog.pg_stats", "pg_catalog.pg_stats_ext", "pg_catalog.pg_stats_ext_exprs",
            "pg_catalog.pg_hba_file_rules", "pg_catalog.pg_ident_file_mappings", "pg_catalog.pg_file_settings",
            "pg_catalog.pg_subscription", "pg_catalog.pg_replication_origin_status",
            // the text of other sessions' statements (literals included): all agents share the upstream role
            "pg_catalog.pg_stat_activity")
            .stream().map(NamePattern::of).toList();

    /** Catalog relations refused as the target of a write: their rules change the session out of the analysis' sight. */
    static final List<NamePattern> WRITTEN_RELATIONS = List.of(
            "pg_catalog.pg_settings") // its UPDATE rule calls set_config(): role, search_path
            .stream().map(NamePattern::of).toList();
}
