#!/usr/bin/env bash
# Rebuilds the demo images with BuildKit: a stand-in "node:22-slim" base (static busybox and a
# tiny npm script), then a small app at two commits that differ only in README.md. Needs a
# running buildkitd (BUILDKIT_HOST), buildctl, a registry at REGISTRY (host:port, plain HTTP)
# and busybox-static. Writes base.tar, head.tar and changed-files.txt next to this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${REGISTRY:?set REGISTRY=127.0.0.1:PORT}"
buildctl=${BUILDCTL:-buildctl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/base"
cp /bin/busybox "$work/base/busybox"
cat > "$work/base/npm" <<'SH'
#!/bin/sh
# A stand-in for npm: "ci" installs from the lockfile, "run build" builds.
case "$1" in
ci) mkdir -p node_modules && cp package-lock.json node_modules/.installed ;;
run) mkdir -p dist && cat server.js > dist/server.js ;;
esac
SH
chmod +x "$work/base/npm"
cat > "$work/base/Dockerfile" <<'DF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY npm /usr/local/bin/npm
ENV NODE_VERSION=22.11.0
CMD ["sh"]
DF
"$buildctl" build --frontend dockerfile.v0 --local context="$work/base" --local dockerfile="$work/base" \
  --output "type=image,name=$REGISTRY/node:22-slim,push=true"

app="$work/app"
mkdir -p "$app"
cp "$here/Dockerfile" "$app/Dockerfile"
cat > "$app/package.json" <<'J'
{"name": "demo", "version": "1.0.0", "scripts": {"build": "true"}}
J
echo '{"lockfileVersion": 3}' > "$app/package-lock.json"
echo 'console.log("hello")' > "$app/server.js"
echo '# demo app' > "$app/README.md"
git -C "$app" init -q && git -C "$app" add -A && git -C "$app" -c user.name=demo -c user.email=demo@example.com commit -qm base
build() {
  "$buildctl" build --frontend dockerfile.v0 --local context="$app" --local dockerfile="$app" \
    --opt "context:node:22-slim=docker-image://$REGISTRY/node:22-slim" \
    --output "type=oci,dest=$1"
}
build "$here/base.tar"
echo 'Run it with `npm start`.' >> "$app/README.md"
git -C "$app" -c user.name=demo -c user.email=demo@example.com commit -qam "docs: how to start"
build "$here/head.tar"
git -C "$app" diff --name-only HEAD~1 HEAD > "$here/changed-files.txt"
