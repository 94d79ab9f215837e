// Vite: `npm run build` writes dist/ (served by `sgl serve` at /); `npm run dev` serves the sources and
// proxies the API to a running server (SGL_URL, default http://127.0.0.1:8080).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const target = process.env.SGL_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1200 },
  server: {
    host: "127.0.0.1",
    proxy: { "/fhir": target, "/auth": target },
  },
});
