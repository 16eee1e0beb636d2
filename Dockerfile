# tickerfan container image: a static binary on a distroless, non-root base.
#
#   docker build -t tickerfan .
#   docker run --rm -p 8080:8080 --ulimit nofile=65536:65536 tickerfan
#   docker run --rm -p 8080:8080 -v $PWD/my.yaml:/etc/tickerfan/tickerfan.yaml:ro \
#       tickerfan -config /etc/tickerfan/tickerfan.yaml -listen 0.0.0.0:8080 -log-format json
#
# Without -config the binary uses its embedded configs/default.yaml (the simulator).
# The build stage's flags are the ones `go build` is checked with outside Docker:
#   CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o tickerfan ./cmd/tickerfan

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git is not in the build context (.dockerignore), so no VCS stamping is attempted.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/tickerfan ./cmd/tickerfan

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tickerfan /tickerfan
# 65532 is distroless's "nonroot"; the process needs no capability (port 8080 > 1024).
USER 65532:65532
EXPOSE 8080
# No shell and no curl in this image: the binary probes itself (`tickerfan healthcheck`).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/tickerfan", "healthcheck", "-url", "http://127.0.0.1:8080/healthz", "-timeout", "2s"]
ENTRYPOINT ["/tickerfan"]
# The default listens on 127.0.0.1, unreachable from outside a container.
CMD ["-listen", "0.0.0.0:8080", "-log-format", "json"]
