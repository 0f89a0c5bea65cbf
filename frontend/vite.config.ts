/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The backend the dev server proxies to (run-dev.sh sets it per gateway).
const api = process.env.VITE_API_URL ?? 'http://127.0.0.1:9000';
const port = Number(process.env.FRONTEND_PORT ?? 4000);

const proxied = ['/api', '/v1', '/health', '/metrics', '/openapi.json'];

export default defineConfig({
  plugins: [react()],
  base: '/',
  server: {
    port,
    proxy: {
      ...Object.fromEntries(proxied.map((path) => [path, { target: api, changeOrigin: true }])),
      '/ws': { target: api, ws: true, changeOrigin: true },
    },
  },
  preview: { port },
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 1500 },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
