import { handleExportDownload } from '@/server/export/download-route';

export const dynamic = 'force-dynamic';

export async function GET(request: Request, context: { params: Promise<{ exportId: string }> }) {
  const { exportId } = await context.params;
  return handleExportDownload(request, exportId);
}
