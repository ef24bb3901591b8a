# mastodon-s3-sync in a container: `docker build -t mastodon-s3-sync .`, then
#   docker run --rm -v "$PWD/private:/app/private:ro" mastodon-s3-sync sync
# The config is read from /app/private/config.ini (mounted, never baked in); see docs/deployment.md.

# --- build: compile TypeScript with the dev dependencies --------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` (the build) needs the sources, copied below; and
# ssh2's optional native crypto addon would need a compiler this image lacks (ssh2 runs without it).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- run: production dependencies, compiled code, the bin script -------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The image's own user (uid 1000): mounted config, keys and fs storages must be readable by it.
USER node
ENTRYPOINT ["node", "bin/mastodon-s3-sync.js"]
CMD ["--help"]
