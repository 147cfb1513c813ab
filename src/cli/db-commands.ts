import { loadConfig } from '../config.js';
import { openDatabase, StoreConfigError } from '../stores/postgres/database.js';
import { migrate, migrationStatus } from '../stores/postgres/migrations.js';

/** Where the command writes (the CLI's Output). */
interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const DB_USAGE = `  db migrate                        apply pending schema migrations to DATABASE_URL (or the embedded
                                    database in DATA_DIR; refused while a service uses that DATA_DIR)
  db status                         print the schema version applied and the migrations pending`;

/**
 * `inotrope-cds db migrate | status`: the operators' view of the schema. Exit 0 when done (status: when
 * nothing is pending), 1 when migrations are pending or the database failed, 78 for a configuration
 * error (the embedded database in use by another process, or a schema newer than this release).
 */
export async function db(args: readonly string[], io: Output): Promise<number> {
  const [sub] = args;
  if (sub !== 'migrate' && sub !== 'status') {
    io.err(`Usage:\n${DB_USAGE}`);
    return 2;
  }
  const config = loadConfig({ ...process.env, CDS_AUTH: 'off' });
  let database;
  try {
    database = await openDatabase(config);
  } catch (err) {
    io.err(`Error: ${(err as Error).message}`);
    return err instanceof StoreConfigError ? 78 : 1;
  }
  try {
    if (sub === 'migrate') {
      const result = await migrate(database);
      io.out(
        result.applied.length === 0
          ? `${database.location}: schema at version ${result.to}, nothing to apply`
          : `${database.location}: applied ${result.applied.join(', ')}; schema now at version ${result.to}`,
      );
      return 0;
    }
    const status = await migrationStatus(database);
    io.out(`${database.location} (${database.kind})`);
    io.out(`schema version ${status.current}; this release knows version ${status.known}`);
    for (const a of status.applied) io.out(`  applied  ${a.version}  ${a.name}  (${a.appliedAt.toISOString()})`);
    for (const p of status.pending) io.out(`  pending  ${p.version}  ${p.name}`);
    if (status.current > status.known) {
      io.err('The schema is newer than this release: run the release that migrated it.');
      return 78;
    }
    return status.pending.length === 0 ? 0 : 1;
  } catch (err) {
    io.err(`Error: ${(err as Error).message}`);
    return err instanceof StoreConfigError ? 78 : 1;
  } finally {
    await database.close();
  }
}
