# syntax=docker/dockerfile:1
# AgentiCorp: one image for every instance (Fastify data plane + Next.js console, one process).
#   docker build -t agenticorp .
#   docker run -p 8080:8080 -e DATABASE_URL=postgresql://… -e SECRET=… agenticorp
# Kubernetes manifests: deploy/kubernetes/ (npm run k8s:render -- --policy NAME).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency, the Prisma client, the console build ----------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
# Scripts wait for the sources: postinstall generates the Prisma client from them.
RUN npm ci --ignore-scripts
COPY . .
RUN node --import tsx scripts/prisma.ts generate \
 && NODE_ENV=production npm run build \
 && rm -rf .next/cache

# ---- production dependencies only --------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# ---- runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    HOST=0.0.0.0 \
    PORT=8080
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/.next ./.next
COPY --from=build /app/lib/platform/db/generated ./lib/platform/db/generated
COPY --from=build /app/dist ./dist
COPY package.json tsconfig.json next.config.ts prisma.config.ts server.ts ./
COPY lib ./lib
COPY prisma ./prisma
COPY scripts ./scripts
# The code stays root's; the process may write only its data folder (the embedded database when
# DATABASE_URL is unset) and Next.js's cache.
RUN mkdir -p .data .next/cache && chown node:node .data .next/cache
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=40s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# Node is PID 1 itself (exec form, no shell): SIGTERM reaches the server, which drains and exits 0.
# The process starts no child processes, so there are no zombies to reap.
CMD ["node", "dist/server.mjs"]
