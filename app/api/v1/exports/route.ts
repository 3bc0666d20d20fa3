import { handleApiExport } from '@/server/export/download-route';

export const dynamic = 'force-dynamic';

export function POST(request: Request) {
  return handleApiExport(request);
}
