// Package image reads the manifests and configs of images from registries and archives, never
// their layer blobs.
package image
