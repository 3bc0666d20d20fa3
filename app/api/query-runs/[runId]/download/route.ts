import { handleQueryRunDownload } from '@/server/export/download-route';

export const dynamic = 'force-dynamic';

export async function GET(request: Request, context: { params: Promise<{ runId: string }> }) {
  const { runId } = await context.params;
  return handleQueryRunDownload(request, runId);
}
