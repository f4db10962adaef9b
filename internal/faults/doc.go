// Package faults is a reverse proxy that makes a registry fail the way real ones do — 5xx, 429
// with Retry-After, reset connections, cut and damaged bodies, delays and stalls — on a seeded
// schedule, for tests and the reliability figures.
package faults
