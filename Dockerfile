# The layerdiff GitHub Action's image. GitHub builds it from this file when a workflow says
# `uses: layerdiff/layerdiff@v1` and runs it as root with the workspace at /github/workspace.
# Both base images can be swapped (mirrors, air-gapped builds):
#   docker build --build-arg GO_IMAGE=... --build-arg RUNTIME_IMAGE=... .
ARG GO_IMAGE=golang:1.26
ARG RUNTIME_IMAGE=alpine:3.22

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# Module files first: the download stays cached until a dependency changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -ldflags="-s -w -X github.com/layerdiff/layerdiff/internal/cli.Version=${VERSION}" -o /out/layerdiff .

# CA certificates for registries and the GitHub API; git to read changed files from the checkout.
FROM ${RUNTIME_IMAGE}
RUN apk add --no-cache ca-certificates git
COPY --from=build /out/layerdiff /usr/local/bin/layerdiff
ENTRYPOINT ["/usr/local/bin/layerdiff"]
