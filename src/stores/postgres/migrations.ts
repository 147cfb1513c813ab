import { StoreConfigError, type Database, type Sql } from './database.js';

/**
 * Versioned schema migrations, applied in order at start-up and by `inotrope-cds db migrate`. Each runs
 * once; a migration is never edited after it has shipped — a change is a new, higher version.
 *
 * What is stored is deliberately narrow (no patient identifiers, no free text): which rule raised which
 * card for which client, what the clinician did with it, silent-rule firings and seen token ids.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'card ledger, feedback, silent firings, seen jtis',
    sql: `
      create table issued_cards (
        uuid text primary key,
        rule_id text not null,
        rule_version text not null,
        -- rules a reconciled card also stands for: [{"id", "version"}]
        also jsonb not null default '[]',
        ruleset_version text not null,
        service text not null,
        hook text not null,
        -- the CDS client's iss ('' when CDS_AUTH=off: no client identity)
        client text not null,
        category text not null,
        indicator text not null,
        -- [{"uuid", "label"}]: the label is the rule file's suggestion label (its template, unrendered)
        suggestions jsonb not null default '[]',
        -- the override reasons the card offered, as "system|code"
        override_reasons text[] not null default '{}',
        issued_at timestamptz not null
      );
      -- analytics over a time window (covering: the aggregate reads the index alone), per-rule time series,
      -- and the daily purge
      create index issued_cards_window on issued_cards (issued_at) include (rule_id, rule_version, category, service, client);
      create index issued_cards_rule on issued_cards (rule_id, issued_at);
      create index issued_cards_also on issued_cards (issued_at) where also <> '[]'::jsonb;

      create table feedback (
        card text primary key references issued_cards (uuid) on delete cascade,
        outcome text not null check (outcome in ('accepted', 'overridden')),
        accepted_suggestions text[] not null default '{}',
        -- "system|code" of an offered reason, 'other' for one the card did not offer, null when none given
        override_reason text,
        has_comment boolean not null,
        outcome_at timestamptz not null,
        received_at timestamptz not null
      );

      create table silent_firings (
        rule_id text not null,
        rule_version text not null,
        category text not null,
        service text not null,
        client text not null,
        fired_at timestamptz not null
      );
      create index silent_firings_window on silent_firings (fired_at) include (rule_id, rule_version, service, client);
      create index silent_firings_rule on silent_firings (rule_id, fired_at);

      -- replay protection shared by every replica: sha-256 (hex) of the jti, per issuer, until the token expires
      create table seen_jtis (
        iss text not null,
        jti_sha256 text not null,
        expires_at timestamptz not null,
        primary key (iss, jti_sha256)
      );
      create index seen_jtis_expiry on seen_jtis (expires_at);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Serialises migrations across replicas (pg_advisory_xact_lock: held until the transaction ends). */
const MIGRATION_LOCK = 0x696e6f74; // "inot"

export class SchemaTooNewError extends StoreConfigError {
  override name = 'SchemaTooNewError';
}

export interface MigrationStatus {
  /** Highest applied version (0 for an empty database). */
  current: number;
  /** Highest version this code knows. */
  known: number;
  applied: { version: number; name: string; appliedAt: Date }[];
  pending: { version: number; name: string }[];
}

/**
 * Brings the schema up to SCHEMA_VERSION in one transaction under an advisory lock, so replicas starting
 * together apply each migration once and the others wait, then find nothing to do. Refuses (without
 * changing anything) a schema newer than this code: an older replica must not write to it.
 */
export async function migrate(db: Database): Promise<{ from: number; to: number; applied: number[] }> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await ensureMigrationsTable(tx);
    const current = await currentVersion(tx);
    refuseNewer(current);
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (version, name, applied_at) values ($1, $2, now())', [m.version, m.name]);
      applied.push(m.version);
    }
    return { from: current, to: Math.max(current, SCHEMA_VERSION), applied };
  });
}

export async function migrationStatus(db: Sql): Promise<MigrationStatus> {
  const exists = await db.query<{ t: string | null }>("select to_regclass('schema_migrations')::text as t");
  const rows =
    exists[0]?.t == null
      ? []
      : await db.query<{ version: number; name: string; applied_at: Date }>('select version, name, applied_at from schema_migrations order by version');
  const current = rows.reduce((max, r) => Math.max(max, r.version), 0);
  return {
    current,
    known: SCHEMA_VERSION,
    applied: rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at })),
    pending: MIGRATIONS.filter((m) => m.version > current).map(({ version, name }) => ({ version, name })),
  };
}

async function ensureMigrationsTable(tx: Sql): Promise<void> {
  await tx.query('create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null)');
}

async function currentVersion(tx: Sql): Promise<number> {
  const rows = await tx.query<{ v: number | null }>('select max(version) as v from schema_migrations');
  return rows[0]?.v ?? 0;
}

function refuseNewer(current: number): void {
  if (current > SCHEMA_VERSION) {
    throw new SchemaTooNewError(
      `The database schema is at version ${current}, newer than this release knows (${SCHEMA_VERSION}). ` +
        'A newer release has migrated it; run that release (or a newer one), not this one.',
    );
  }
}

/** Refuses to run on a schema newer than the code (checked without migrating: `db status`, tests). */
export async function assertSchemaKnown(db: Sql): Promise<void> {
  refuseNewer((await migrationStatus(db)).current);
}
