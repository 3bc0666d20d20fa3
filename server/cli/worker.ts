// npm run worker: a process that runs export jobs from the pg-boss queue (app database on PostgreSQL).
// Run as many as the load needs, on any machine that reaches the databases and the export storage.
import { getAppDb } from '../db/client';
import { getEnv, isPostgresUrl } from '../env';
import { createLocalDiskStorage } from '../export/storage';
import { log } from '../log';
import { getDataSource } from '../query/sources';
import { exitUnlessDataSourceIsSafe } from './data-source-check';
import { assembleServices, jobOptionsFromEnv, jobRunnerFromEnv } from '../services';

const env = getEnv();
if (!isPostgresUrl(env.databaseUrl)) {
  console.error(
    'npm run worker needs the app database on PostgreSQL (DATABASE_URL=postgres://…). On the embedded default, the app runs export jobs itself.',
  );
  process.exit(2);
}
const dataSource = getDataSource();
await exitUnlessDataSourceIsSafe(dataSource);
const services = await assembleServices(
  { db: await getAppDb(), dataSource, storage: createLocalDiskStorage(env.exportStorageDir) },
  jobOptionsFromEnv(),
  jobRunnerFromEnv(true),
);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping: cancelling running exports');
  await services.jobs.close();
  await services.dataSource.close();
  await services.db.$disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
