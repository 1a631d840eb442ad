import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Database drivers, Prisma's runtime and native addons (Argon2) stay as Node modules rather
  // than bundled copies.
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "@prisma/client", "prom-client", "@node-rs/argon2"],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { tsconfigPath: "tsconfig.json" },
};

export default nextConfig;
