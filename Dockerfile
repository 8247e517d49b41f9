# syntax=docker/dockerfile:1
#
# The billharness image: reconcile, loadgen and sandbox as static binaries in
# /usr/local/bin, on distroless static (CA certificates, tzdata, no shell),
# running as the nonroot user 65532.
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t REGISTRY/billharness:TAG .
#
# The Kubernetes manifests in jobs/ set each container's command; the
# entrypoint only makes `docker run IMAGE verify -h` work.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ \
    ./cmd/reconcile ./cmd/loadgen ./cmd/sandbox

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/reconcile /out/loadgen /out/sandbox /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/reconcile"]
