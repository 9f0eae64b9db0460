import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// Tauri serves ui/dist through its custom protocol; the dev server is only for `tauri dev`.
export default defineConfig({
  plugins: [vue()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "safari15", outDir: "dist", emptyOutDir: true, sourcemap: false },
  test: { environment: "happy-dom", include: ["src/**/*.test.ts"] },
});
