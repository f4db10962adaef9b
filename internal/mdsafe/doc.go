// Package mdsafe neutralises untrusted strings (file names, Dockerfile text, image references)
// before they reach GitHub-flavoured markdown or a workflow log.
package mdsafe
