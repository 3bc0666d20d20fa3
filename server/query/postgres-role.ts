import type pg from 'pg';
import { AskportError } from '../errors';
import { log } from '../log';

// The second wall behind the SQL guard: the PostgreSQL role the data source is read through may read
// and nothing else. Checked once per data source, before its first query.

/** Predefined roles that reach files, programs, other sessions, every table or the server's settings. */
// biome-ignore format: a word list reads best packed
const PRIVILEGED_ROLES = [
  'pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program', 'pg_signal_backend', 'pg_read_all_data', 'pg_write_all_data',
  'pg_read_all_settings', 'pg_read_all_stats', 'pg_stat_scan_tables', 'pg_monitor', 'pg_checkpoint', 'pg_create_subscription',
  'pg_use_reserved_connections', 'pg_maintain', 'pg_signal_autovacuum_worker', 'pg_database_owner',
];

const ROLE_PRIVILEGES_SQL = `
SELECT r.rolname AS name, r.rolsuper AS superuser,
  r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls AS administers,
  ARRAY(SELECT m.rolname::text FROM pg_roles m WHERE m.rolname = ANY($1::text[]) AND pg_has_role(r.oid, m.oid, 'MEMBER') ORDER BY 1) AS memberships,
  ARRAY(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
          AND (has_table_privilege(r.oid, c.oid, 'DELETE, TRUNCATE') OR has_any_column_privilege(r.oid, c.oid, 'INSERT, UPDATE'))
        ORDER BY 1 LIMIT 3) AS writable,
  has_database_privilege(r.oid, current_database(), 'CREATE') AS creates_schemas,
  ARRAY(SELECT nspname::text FROM pg_namespace WHERE has_schema_privilege(r.oid, oid, 'CREATE') AND nspname NOT LIKE 'pg\\_%' ORDER BY 1) AS creates_in
FROM pg_roles r WHERE r.rolname = current_user`;

/** The data source role can do more than read: refused at start unless DATA_SOURCE_ALLOW_PRIVILEGED=true. */
export class DataSourcePrivilegeError extends AskportError {
  static readonly brand: string = 'DataSourcePrivilegeError';
}

interface RolePrivileges {
  name: string;
  superuser: boolean;
  administers: boolean;
  memberships: string[];
  writable: string[];
  creates_schemas: boolean;
  creates_in: string[];
}

/** What the role may do beyond reading, in words; empty for a read-only role. */
function privilegesBeyondReading(role: RolePrivileges): string[] {
  const reasons: string[] = [];
  if (role.superuser) reasons.push('is a superuser');
  if (role.administers) reasons.push('can create roles or databases, replicate or bypass row security');
  if (role.memberships.length > 0) reasons.push(`is a member of ${role.memberships.join(', ')}`);
  if (role.writable.length > 0) reasons.push(`can write to tables (${role.writable.join(', ')})`);
  if (role.creates_schemas) reasons.push('can create schemas in this database');
  if (role.creates_in.length > 0) reasons.push(`can create objects in schema ${role.creates_in.join(', ')}`);
  return reasons;
}

/** Throws DataSourcePrivilegeError (a sentence for the operator) when the role can do more than read, unless allowed. */
export async function checkDataSourceRole(pool: pg.Pool, allowPrivileged: boolean): Promise<void> {
  const role = (await pool.query<RolePrivileges>(ROLE_PRIVILEGES_SQL, [PRIVILEGED_ROLES])).rows[0];
  const reasons = role ? privilegesBeyondReading(role) : [];
  if (!role || reasons.length === 0) return;
  if (allowPrivileged) {
    log.warn({ role: role.name, reasons }, 'data source role is privileged; allowed by DATA_SOURCE_ALLOW_PRIVILEGED');
    return;
  }
  throw new DataSourcePrivilegeError(
    `The data source role "${role.name}" ${reasons.join('; ')}. Askport reads the data source through a read-only role (see "A read-only role for the data source" in the README); to accept this role anyway, set DATA_SOURCE_ALLOW_PRIVILEGED=true.`,
  );
}
