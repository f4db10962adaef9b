// Package action runs layerdiff as a GitHub Action: it reads the inputs and the event, analyses
// the two images, and publishes the sticky pull request comment, job summary, outputs,
// Dockerfile annotations and merge gates.
package action
