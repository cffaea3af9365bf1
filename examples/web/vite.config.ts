import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // http://localhost:5173: a loopback origin, which the API's development CORS policy allows.
  server: { port: 5173, strictPort: true },
  preview: { port: 4173, strictPort: true },
});
