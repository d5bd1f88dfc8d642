# syntax=docker/dockerfile:1
# Multi-stage build: a static, pure-Go binary (embedded SQLite needs no cgo) on a minimal base,
# running as a non-root user with its data in the /data volume.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is what `kefu version` and the first log line say (docker build --build-arg VERSION=v1.2.3).
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/kefu ./cmd/kefu \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kefu /usr/local/bin/kefu
COPY --from=build --chown=65532:65532 /out/data /data
# The IANA time zone database is embedded in the binary (import _ "time/tzdata").
ENV KEFU_DATABASE_URL=/data/kefu.db \
    KEFU_ADDR=:8080 \
    KEFU_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kefu"]
CMD ["serve"]
