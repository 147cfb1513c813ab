# syntax=docker/dockerfile:1
# Build stage: full install (TypeScript, Vite), compile to dist/ and build the console into dist/console.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
RUN npm run build

# Runtime stage: production dependencies only, non-root, rules shipped beside the code.
FROM node:22-bookworm-slim AS runtime
# Heap limits measured by the benchmark (peak RSS about 150 MB under load); the Deployment sets the same.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=96" \
    HOST=0.0.0.0 \
    PORT=8080 \
    RULES_DIR=/app/rules \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY rules ./rules
# The console playground offers these example requests.
COPY examples ./examples
# The embedded database when DATABASE_URL is unset (one container); a deployment of several replicas sets
# DATABASE_URL instead and needs no volume.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
