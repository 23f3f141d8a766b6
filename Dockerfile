# exoscope worker image: `docker compose up --scale worker=4` (see
# docker-compose.yml and docs/scaling-out.md). Any exoscope command runs too:
# `docker compose run --rm -T worker node dist/src/cli/main.js status q4`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "dist/src/cli/main.js", "worker"]
