// Runs before the app starts: applies migrations, seeds demo data on first start, creates the demo
// account on the embedded default. The app does the same lazily; doing it here makes the first page
// load fast and surfaces configuration errors in the terminal. (No export jobs run here.)
import { getAppDb } from '../db/client';
import { getDataSource } from '../query/sources';
import { exitUnlessDataSourceIsSafe } from './data-source-check';
import { prepareInstall } from '../services';

const db = await getAppDb();
await prepareInstall(db);
await db.$disconnect();
// A privileged PostgreSQL role for the data source stops the start here, with the reason.
await exitUnlessDataSourceIsSafe(getDataSource());
await getDataSource().close();
console.log('Askport is ready: database migrated, demo data in place.');
