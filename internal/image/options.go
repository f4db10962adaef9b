package image

import (
	"context"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option changes how Load reaches registries. Archives and layouts ignore them.
type Option func(*options)

type options struct {
	keychain authn.Keychain
	// basic is set by WithAuth; it wins over the keychain for every registry.
	basic     *authn.Basic
	transport http.RoundTripper
	userAgent string
	retry     retryPolicy
}

// makeOptions is the one place that sets defaults.
func makeOptions(opts []Option) options {
	o := options{
		keychain:  authn.DefaultKeychain,
		transport: remote.DefaultTransport,
		userAgent: "layerdiff",
		retry:     defaultRetryPolicy,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithKeychain sets where registry credentials come from. The default is authn.DefaultKeychain:
// the Docker config file (honouring DOCKER_CONFIG) and its credential helpers.
func WithKeychain(kc authn.Keychain) Option {
	return func(o *options) { o.keychain = kc }
}

// WithAuth sends these basic credentials to every registry, overriding the keychain.
func WithAuth(username, password string) Option {
	return func(o *options) { o.basic = &authn.Basic{Username: username, Password: password} }
}

// WithTransport sets the HTTP transport used for registries (tests and fault injection).
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) { o.transport = t }
}

// WithUserAgent sets the User-Agent sent to registries.
func WithUserAgent(ua string) Option {
	return func(o *options) { o.userAgent = ua }
}

// WithRetry sets how often one registry request is sent before a failure is final (1: no
// retries; default 5) and the first wait between attempts (default 250ms), which doubles after
// each failure up to 4s. A Retry-After of up to a minute is honoured instead. Tests and fault
// injection shorten the wait.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(o *options) {
		o.retry.attempts = max(attempts, 1)
		o.retry.backoff = max(backoff, 0)
		o.retry.maxBackoff = max(16*backoff, 0)
	}
}

// WithStallTimeout abandons (and retries) a registry request that receives nothing for d
// (default 30s); 0 never does.
func WithStallTimeout(d time.Duration) Option {
	return func(o *options) { o.retry.stall = max(d, 0) }
}

// authenticator returns the credentials for repo: WithAuth's, else the keychain's (which may
// be authn.Anonymous).
func (o options) authenticator(ctx context.Context, repo authn.Resource) (authn.Authenticator, error) {
	if o.basic != nil {
		return o.basic, nil
	}
	return authn.Resolve(ctx, o.keychain, repo)
}
