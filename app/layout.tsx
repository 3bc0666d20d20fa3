import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { TrpcProviders } from '@/components/trpc';
import './globals.css';

export const metadata: Metadata = {
  title: 'Askport — ask your data, take it with you',
  description: 'Chat with your database and export any answer as CSV, JSON or Excel.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <TrpcProviders>{children}</TrpcProviders>
      </body>
    </html>
  );
}
