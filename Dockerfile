# The sluice image: agent and transfer on the official Deno image. compose.yaml builds it;
# `docker run IMAGE agent --help` or `docker run IMAGE transfer --help` shows the options.
ARG DENO_VERSION=2.9.6
FROM denoland/deno:${DENO_VERSION}

WORKDIR /app
RUN mkdir -p /var/lib/sluice && chown deno:deno /app /var/lib/sluice

USER deno
# Dependencies first, so a code change does not download them again.
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen

COPY --chown=deno:deno . .
# Type-check (and so cache) both entry points at build time: a broken image fails here, not at
# start.
RUN deno check --frozen=true agent/main.ts transfer/main.ts

# Sources are read from mounted folders; checkpoints go to this volume.
VOLUME ["/var/lib/sluice"]
ENTRYPOINT ["deno", "task", "--quiet"]
CMD ["agent"]
