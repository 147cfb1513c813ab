import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync, accessSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';

/**
 * One SQL dialect (PostgreSQL) over two engines: a PostgreSQL server through `pg` when DATABASE_URL is
 * set, else PGlite (PostgreSQL compiled to WASM, in-process) persisting to DATA_DIR. The stores, the
 * migrations and the tests see only this interface, so both engines run the same statements.
 */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (a migration). */
  exec(text: string): Promise<void>;
}

export interface Database extends Sql {
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, for logs and `db status` (never a password). */
  readonly location: string;
  /** Runs `work` in one transaction on one connection (commit, or rollback when it throws). */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A deployment mistake the operator must fix (unwritable DATA_DIR, data dir in use, schema too new): exit 78. */
export class StoreConfigError extends Error {
  override name = 'StoreConfigError';
}

export interface DatabaseOptions {
  DATABASE_URL?: string | undefined;
  DATA_DIR: string;
  DATABASE_POOL_MAX?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.DATABASE_URL ? openPostgres(options.DATABASE_URL, options.DATABASE_POOL_MAX ?? 10) : openPglite(options.DATA_DIR);
}

export function openPostgres(url: string, max = 10): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // A hook never waits long for bookkeeping: a database that does not answer is an outage, not a queue.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    // No statement may hold a connection for long (the purge deletes in chunks; analytics read indexed windows).
    statement_timeout: 30_000,
    application_name: 'inotrope-cds',
  });
  // An idle client's connection dying (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    location: redact(url),
    async query<T>(text: string, params: readonly unknown[] = []) {
      return (await pool.query(text, params as unknown[])).rows as T[];
    },
    exec: async (text: string) => void (await pool.query(text)),
    async transaction<T>(work: (tx: Sql) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work({
          query: async <R>(text: string, params: readonly unknown[] = []) => (await client.query(text, params as unknown[])).rows as R[],
          exec: async (text: string) => void (await client.query(text)),
        });
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

const LOCK_FILE = 'inotrope-cds.lock';

/**
 * PGlite in `<DATA_DIR>/pglite`. PGlite is one connection in one process with no lock of its own, so a
 * lock file beside it keeps a second process (another service, or `db migrate` while the service runs)
 * from opening the same files and corrupting them.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  const dir = path.resolve(dataDir);
  ensureWritable(dir);
  const release = takeLock(dir);
  let db: PGlite;
  try {
    db = await PGlite.create(path.join(dir, 'pglite'));
  } catch (err) {
    release();
    throw err;
  }
  return pgliteDatabase(db, `${path.join(dir, 'pglite')} (embedded PGlite)`, async () => {
    await db.close();
    release();
  });
}

/** An in-memory PGlite (nothing on disk, no lock): for tests. */
export async function openMemoryPglite(): Promise<Database> {
  const db = await PGlite.create();
  return pgliteDatabase(db, 'memory (PGlite)', () => db.close());
}

function pgliteDatabase(db: PGlite, location: string, close: () => Promise<void>): Database {
  return {
    kind: 'pglite',
    location,
    async query<T>(text: string, params: readonly unknown[] = []) {
      return (await db.query<T>(text, params as unknown[])).rows;
    },
    exec: async (text: string) => void (await db.exec(text)),
    transaction: <T>(work: (tx: Sql) => Promise<T>) =>
      db.transaction((tx) =>
        work({
          query: async <R>(text: string, params: readonly unknown[] = []) => (await tx.query<R>(text, params as unknown[])).rows,
          exec: async (text: string) => void (await tx.exec(text)),
        }),
      ),
    close,
  };
}

/** Fails fast, with the directory named, when DATA_DIR cannot be created or written. */
export function ensureWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = path.join(dir, `.write-probe-${process.pid}`);
    closeSync(openSync(probe, 'w'));
    rmSync(probe);
  } catch (err) {
    throw new StoreConfigError(
      `DATA_DIR ${dir} is not a writable directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). ` +
        'Point DATA_DIR at a writable directory, or set DATABASE_URL to use a PostgreSQL server.',
    );
  }
}

/** Creates the lock file (exclusively); a lock left by a process that no longer runs is taken over. */
function takeLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const me = `${process.pid} ${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      if (holder && holder.alive) {
        throw new StoreConfigError(
          `The embedded database in ${dir} is in use by process ${holder.pid} on ${holder.host} (lock file ${file}). ` +
            'PGlite allows one process at a time: stop that process first (the service, or a running db command), ' +
            'or use a PostgreSQL server (DATABASE_URL) to run several.',
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new StoreConfigError(`Could not take the lock file ${file}`);
}

function readHolder(file: string): { pid: number; host: string; alive: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, host = ''] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  // Another host's lock (a shared volume) cannot be checked from here, so it is respected; on this host a
  // pid that is ours (a restarted container is often pid 1 again) or gone is a stale lock.
  if (host !== hostname()) return { pid, host, alive: true };
  if (pid === process.pid) return { pid, host, alive: false };
  try {
    process.kill(pid, 0);
    return { pid, host, alive: true };
  } catch (err) {
    return { pid, host, alive: (err as NodeJS.ErrnoException).code === 'EPERM' };
  }
}
