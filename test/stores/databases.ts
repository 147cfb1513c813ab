import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openMemoryPglite, openPostgres, type Database } from '../../src/stores/postgres/database.js';

/**
 * The engines every store suite runs against: PGlite always, and a real PostgreSQL when
 * TEST_DATABASE_URL is set (CI sets it). The PostgreSQL server is shared by other test runs, so each
 * run creates its own randomly named database and drops it afterwards.
 */
export interface TestEngine {
  name: 'pglite' | 'postgres';
  open(): Promise<{ db: Database; url?: string; drop(): Promise<void> }>;
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

export const engines: TestEngine[] = [
  {
    name: 'pglite',
    async open() {
      const db = await openMemoryPglite();
      return { db, drop: () => db.close() };
    },
  },
  ...(TEST_DATABASE_URL
    ? [
        {
          name: 'postgres' as const,
          async open() {
            const { url, drop } = await createTestDatabase();
            const db = openPostgres(url, 4);
            return {
              db,
              url,
              async drop() {
                await db.close();
                await drop();
              },
            };
          },
        },
      ]
    : []),
];

if (!TEST_DATABASE_URL) console.warn('TEST_DATABASE_URL is not set: store suites run on PGlite only (CI runs PostgreSQL too).');

/** A fresh database on the TEST_DATABASE_URL server, named at random; `drop` removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `inotrope_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
