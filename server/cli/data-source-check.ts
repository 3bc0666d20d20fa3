import type { DataSource } from '../query/data-source';

/** Stops a starting process, with the reason, when the data source cannot be used safely (a privileged PostgreSQL role). */
export async function exitUnlessDataSourceIsSafe(dataSource: DataSource): Promise<void> {
  try {
    await dataSource.verify();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
