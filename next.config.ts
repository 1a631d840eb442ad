import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Database drivers, Prisma's runtime and native addons (Argon2) stay as Node modules rather
  // than bundled copies.
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "@prisma/client", "prom-client", "@node-rs/argon2"],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { tsconfigPath: "tsconfig.json" },
  // Load each console route's code when it is first requested rather than all at start: every
  // instance serves the data plane, few ever serve the console, and the preloaded routes were
  // tens of megabytes of every instance's memory.
  experimental: { preloadEntriesOnStart: false },
};

export default nextConfig;
