// Package analyze explains, from two images' manifests and configs alone, which build steps of
// the head image missed the layer cache of the base image and why; it does no I/O.
package analyze
