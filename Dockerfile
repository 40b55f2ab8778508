# syntax=docker/dockerfile:1
# Runtime image for the `syrf-db` CLI: build with dev dependencies, ship only production ones.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts off: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY runtime ./runtime
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs tsc, which is a dev dependency; the JS is already built.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && ln -s /app/dist/runtime/cli/main.js /usr/local/bin/syrf-db
COPY --from=build /src/dist ./dist
COPY rules ./rules
RUN chmod 0755 /app/dist/runtime/cli/main.js \
 && groupadd --gid 10001 syrf \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin syrf
# Numeric, so Kubernetes can verify runAsNonRoot without resolving names.
USER 10001:10001
ENTRYPOINT ["syrf-db"]
CMD ["--help"]
