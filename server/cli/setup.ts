// Runs before the app starts: applies migrations, seeds demo data on first start, creates the demo
// account on the embedded default. The app does the same lazily; doing it here makes the first page
// load fast and surfaces configuration errors in the terminal. (No export jobs run here.)
import { getAppDb } from '../db/client';
import { prepareInstall } from '../services';

const db = await getAppDb();
await prepareInstall(db);
await db.$disconnect();
console.log('Askport is ready: database migrated, demo data in place.');
