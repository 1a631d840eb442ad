import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Database drivers and Prisma's runtime stay as Node modules rather than bundled copies.
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "@prisma/client", "prom-client"],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { tsconfigPath: "tsconfig.json" },
};

export default nextConfig;
