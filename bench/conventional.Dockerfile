# The conventional baseline bench/http.mjs compares each service image with: one stage FROM the stock-style Node.js
# image (Debian slim + Node.js + npm: NODE_IMAGE, the ref tools/bases.mjs records), the built service and its
# production dependencies from `npm ci --omit=dev`. The npm_ca secret as in docker/service/Dockerfile.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim
FROM ${NODE_IMAGE}
ARG PROJECT
WORKDIR /app
COPY dist/apps/${PROJECT}/package.json dist/apps/${PROJECT}/package-lock.json ./
RUN --mount=type=secret,id=npm_ca,mode=0444 \
    --mount=type=cache,id=npm-cache-conventional,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
COPY dist/apps/${PROJECT}/main.js ./
ENV NODE_ENV=production
USER 1000:1000
CMD ["node", "main.js"]
