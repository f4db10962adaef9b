// Package github publishes layerdiff's results through the GitHub REST API: the sticky pull
// request comment, the changed files of a pull request or comparison, and who the token is.
package github
