// Package githubtest is an in-memory GitHub that answers the REST paths (and the one GraphQL
// query) layerdiff uses, on an httptest server, and records every request.
package githubtest
