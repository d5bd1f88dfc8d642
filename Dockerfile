# syntax=docker/dockerfile:1
# Multi-stage build: a static, pure-Go binary (embedded SQLite needs no cgo) on a minimal base,
# running as a non-root user with its data in the /data volume. Checked by cmd/kefu/deploy_test.go
# (no Docker engine in CI).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is what `kefu version` and the first log line say (docker build --build-arg VERSION=v1.2.3).
# COMMIT is the revision it reports (.git is not sent to the build: --build-arg COMMIT=$(git rev-parse HEAD)).
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/kefu ./cmd/kefu \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kefu /usr/local/bin/kefu
COPY --from=build --chown=65532:65532 /out/data /data
# Relative paths (a `kefu backup` file, the first admin's password file with PostgreSQL) land in the volume.
WORKDIR /data
# The IANA time zone database is embedded in the binary (import _ "time/tzdata").
# Metrics listen on all interfaces inside the container; publish 9464 only to the monitoring network.
ENV KEFU_DATABASE_URL=/data/kefu.db \
    KEFU_ADDR=:8080 \
    KEFU_METRICS_ADDR=:9464 \
    KEFU_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080 9464
USER 65532:65532
# The image has no shell, curl or wget: the health check is kefu itself (GET /readyz on KEFU_ADDR).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/kefu", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/kefu"]
CMD ["serve"]
