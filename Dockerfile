# exoscope image. By default it runs `exoscope worker` (REDIS_URL from the
# environment): `docker compose up --scale worker=4` (see docker-compose.yml
# and docs/distributed.md). Any other command runs too:
# `docker compose run --rm -T worker status q4`,
# `docker run --rm -i exoscope scan - < clients.csv > results.csv`.
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
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]
