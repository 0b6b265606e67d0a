# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The console (dist/console): its sources, the OpenAPI document its client is typed from, its build script.
COPY console ./console
COPY openapi/openapi.json ./openapi/openapi.json
COPY scripts/build-console.js ./scripts/build-console.js
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies, compiled code and migrations only, as a non-root user.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    CORDON_DATA_DIR=/var/lib/cordon \
    PORT=3000
WORKDIR /app
RUN groupadd --system cordon && useradd --system --gid cordon --home-dir /app cordon \
 && mkdir -p /var/lib/cordon && chown cordon:cordon /var/lib/cordon
COPY --from=build --chown=cordon:cordon /app/package.json /app/package-lock.json ./
COPY --from=build --chown=cordon:cordon /app/node_modules ./node_modules
COPY --from=build --chown=cordon:cordon /app/dist ./dist
COPY --chown=cordon:cordon migrations ./migrations
USER cordon
EXPOSE 3000
VOLUME ["/var/lib/cordon"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node directly (not npm) so SIGTERM reaches the process and shutdown is graceful.
CMD ["node", "dist/src/main.js"]
