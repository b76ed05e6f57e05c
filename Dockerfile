# One image for both roles: `web` (HTTP edges) and `worker` (queues).
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources directly, so dev dependencies stay.
RUN npm ci --include=dev --ignore-scripts
COPY . .
RUN npm run prisma:generate
USER node
EXPOSE 3000
# Override with "worker" for the queue role.
ENTRYPOINT ["npx", "tsx", "src/main.ts"]
CMD ["web"]
