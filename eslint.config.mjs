// ESLint for the whole tree: type-aware typescript-eslint everywhere, Next.js and React hooks rules for the console,
// and eslint-config-prettier last so that formatting is Prettier's job alone.
import js from "@eslint/js";
import nextCoreWebVitals from "eslint-config-next/core-web-vitals";
import prettier from "eslint-config-prettier";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

const consoleFiles = ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}", "instrumentation-client.ts"];

export default tseslint.config(
  {
    ignores: [
      ".next/**",
      "dist/**",
      "coverage/**",
      "node_modules/**",
      "lib/platform/db/generated/**",
      "docs/screenshots/**",
      "bench/results/**",
      "test-results/**",
      ".data/**",
      ".scratch/**",
      "next-env.d.ts",
    ],
  },
  js.configs.recommended,
  // Next's own config object lints every file with Babel; here it applies to the console only, with TypeScript's parser.
  ...nextCoreWebVitals.map((config) => ({ ...config, files: consoleFiles })),
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-explicit-any": "error",
      // A variable a closure reads before its one assignment (a child process's handle) has to be declared with let.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // Fastify plugins, route handlers and interface implementations are async by contract without awaiting anything;
      // the promise defects are caught by no-floating-promises and no-misused-promises instead.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    files: ["tests/**/*.ts"],
    rules: {
      // Tests read parsed JSON bodies (typed any) and assert on them; the expect() is the type check there.
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      // Tests feed deliberately ill-typed input to parsers and handlers to see them refuse it.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    files: ["deploy/loadtest/*.js"],
    // k6 scripts run in k6's runtime, which provides these globals.
    languageOptions: { globals: { __ENV: "readonly", __VU: "readonly", __ITER: "readonly" } },
  },
  {
    files: consoleFiles,
    plugins: { "react-hooks": reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ["**/*.{js,mjs,cjs}"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node } },
  },
  prettier,
);
