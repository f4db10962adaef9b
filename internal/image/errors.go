package image

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// notFound turns a registry's "no such repository/manifest" into ErrNotFound, or returns nil.
// Only the root manifest is checked: a missing child of an existing index is a broken image,
// not an absent one.
func notFound(err error) error {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return nil
	}
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.NameUnknownErrorCode:
			return fmt.Errorf("%w: the registry knows no such repository", ErrNotFound)
		case transport.ManifestUnknownErrorCode:
			// CNCF distribution also answers this for a repository that does not exist.
			return fmt.Errorf("%w: the registry knows no such tag or digest", ErrNotFound)
		}
	}
	if terr.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w (registry answered %d %s)", ErrNotFound, terr.StatusCode, http.StatusText(terr.StatusCode))
	}
	return nil
}

// authError replaces a registry's 401/403 with a message that names the registry and whether
// credentials were sent, and nothing from the request: no header, no token, no password.
func (f *remoteFetcher) authError(err error) error {
	var terr *transport.Error
	if !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
		return err
	}
	return &accessError{host: f.repo.RegistryStr(), status: terr.StatusCode, anonymous: f.auth == authn.Anonymous, cause: err}
}

type accessError struct {
	host      string
	status    int
	anonymous bool
	cause     error
}

func (e *accessError) Error() string {
	status := fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
	if e.anonymous {
		// Docker Hub and others answer 401, not 404, for a repository that does not exist.
		return fmt.Sprintf("registry %s denied access without credentials (%s): credentials are missing, or the repository does not exist", e.host, status)
	}
	return fmt.Sprintf("registry %s refused the credentials (%s)", e.host, status)
}

func (e *accessError) Unwrap() error { return e.cause }

// redact removes the credentials' secrets from err's message. The messages built here never
// hold them, but an error from a token service or a transport may echo what it was sent.
func redact(ctx context.Context, err error, auth authn.Authenticator, host string) error {
	msg := err.Error()
	// go-containerregistry quotes a token service's whole answer when it holds no access
	// token; that answer may still hold a refresh token.
	if i := strings.Index(msg, "no token in bearer response"); i >= 0 {
		msg = msg[:i] + fmt.Sprintf("the token service of registry %s answered without a token", host)
	}
	for _, s := range secrets(ctx, auth) {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, cause: err}
}

// secrets lists the forms in which auth's credentials could appear in a message.
func secrets(ctx context.Context, auth authn.Authenticator) []string {
	if auth == nil || auth == authn.Anonymous {
		return nil
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil || cfg == nil {
		return nil
	}
	var out []string
	for _, s := range []string{cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	if cfg.Password != "" {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
	}
	return out
}

// redactedError keeps errors.Is/As working through a message with secrets removed.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
