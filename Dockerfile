# The service image: compiled TypeScript on Node 24, no dev dependencies, not root.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json schema.zed ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json schema.zed ./
# Policy modules beside schema.zed (POLICY_DIR points elsewhere, e.g. a mounted folder).
COPY policy ./policy
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
