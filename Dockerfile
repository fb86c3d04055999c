# One image for every bookstore process; compose.yaml picks the entry point.
FROM denoland/deno:2.9.6
WORKDIR /app
COPY . .
# Cache every dependency at build time, exactly as locked.
RUN deno install --frozen --entrypoint main.tsx dev.ts services/*/main.ts
ENV BOOKSTORE_HOST=0.0.0.0 BOOKSTORE_DATA_DIR=/data
RUN mkdir -p /data && chown deno:deno /data
USER deno
EXPOSE 8000 8081 50051 50052 50053 50055 50061
