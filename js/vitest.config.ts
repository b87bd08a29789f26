import { defineConfig } from "vitest/config";

// Two folders, two environments: pure logic (and the core helpers it uses) runs under Node, so a
// DOM dependency there fails loudly; the views run under happy-dom.
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: "logic", include: ["test/logic/**/*.test.ts"], environment: "node" } },
      { extends: true, test: { name: "views", include: ["test/views/**/*.test.ts"], environment: "happy-dom" } },
    ],
  },
});
