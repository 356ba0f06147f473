# coby: one container running `deno task start`.
FROM denoland/deno:2.9.6
WORKDIR /app
COPY deno.json deno.lock ./
COPY actors actors
COPY runtime runtime
COPY http http
COPY ui ui
COPY sql sql
RUN deno install --frozen && deno cache http/cli/start.ts http/cli/serve.ts actors/*.ts actors/live/redis.ts actors/connection/mod.ts
# Bundle the viewer once at build time so `deno bundle` has its esbuild cached.
RUN deno eval --config deno.json 'import { buildUi } from "./http/bundle.ts"; await buildUi();'
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
CMD ["task", "start"]
