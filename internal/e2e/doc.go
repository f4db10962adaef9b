// Package e2e holds the end-to-end tier: it builds real images with BuildKit and buildah from
// throwaway git repositories, serves them from a real registry and runs the layerdiff binary
// against them as a user would. The tests run only when LAYERDIFF_E2E=1 (see .ci/test).
package e2e
