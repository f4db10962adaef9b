package image

import (
	"net/http"

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
}

// makeOptions is the one place that sets defaults.
func makeOptions(opts []Option) options {
	o := options{
		keychain:  authn.DefaultKeychain,
		transport: remote.DefaultTransport,
		userAgent: "layerdiff",
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
