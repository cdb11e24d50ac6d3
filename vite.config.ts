import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The browser app: built into dist/, which the server serves at /.
export default defineConfig({
  root: fileURLToPath(new URL('./client/page', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // pixi.js splits its renderers into lazy chunks; the page always needs
    // WebGPU's, so one script loads faster than a chain of them.
    rolldownOptions: { output: { codeSplitting: false } },
    chunkSizeWarningLimit: 2048,
  },
  server: {
    // `vite` in development proxies the server's endpoints.
    proxy: {
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
      '/trace': { target: 'ws://127.0.0.1:8080', ws: true },
      '/control': 'http://127.0.0.1:8080',
      '/display-token': 'http://127.0.0.1:8080',
      '/metrics': 'http://127.0.0.1:8080',
      '/trace.json': 'http://127.0.0.1:8080',
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
});
