package image

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/layerdiff/layerdiff/analyze"
)

var errInvalidReference = errors.New("not a valid image reference " +
	"(want [REGISTRY/]REPOSITORY[:TAG|@DIGEST], oci:DIR, oci-archive:FILE or docker-archive:FILE)")

// loadRemote reads from a registry with three or four requests: the API ping, the root
// manifest, the platform's manifest when the root is an index, and the config blob. For
// loopback and private-network registries go-containerregistry pings over HTTPS and plain HTTP
// at once and uses whichever answers, so a local registry without TLS just works.
func loadRemote(ctx context.Context, s string, want platform, o options) (*analyze.Image, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, errInvalidReference
	}
	repo := ref.Context()
	auth, err := o.authenticator(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("reading credentials for registry %s: %w", repo.RegistryStr(), err)
	}
	rt := &retryTransport{inner: o.transport, policy: o.retry}
	puller, err := remote.NewPuller(
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithTransport(rt),
		remote.WithUserAgent(o.userAgent),
		// rt retries; go-containerregistry's own retries on top would multiply the attempts,
		// sleep past a cancelled context and ignore Retry-After.
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithRetryStatusCodes(),
	)
	if err != nil {
		return nil, err
	}
	f := &remoteFetcher{puller: puller, repo: repo, auth: auth, policy: o.retry}
	img, err := f.load(ctx, ref, want)
	if err != nil {
		return nil, redact(ctx, err, auth, repo.RegistryStr())
	}
	return img, nil
}

type remoteFetcher struct {
	puller *remote.Puller
	repo   name.Repository
	auth   authn.Authenticator
	policy retryPolicy
}

func (f *remoteFetcher) load(ctx context.Context, ref name.Reference, want platform) (*analyze.Image, error) {
	desc, err := withReads(ctx, f.policy, f.repo.RegistryStr(), func() (*remote.Descriptor, error) {
		return f.puller.Get(ctx, ref)
	})
	if err != nil {
		if nf := notFound(err); nf != nil {
			return nil, nf
		}
		return nil, f.failure(err)
	}
	return resolve(ctx, f, manifestBlob{raw: desc.Manifest, digest: desc.Digest, mediaType: desc.MediaType}, want)
}

func (f *remoteFetcher) manifest(ctx context.Context, d v1.Hash) ([]byte, error) {
	desc, err := withReads(ctx, f.policy, f.repo.RegistryStr(), func() (*remote.Descriptor, error) {
		return f.puller.Get(ctx, f.repo.Digest(d.String()))
	})
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d, f.failure(err))
	}
	return desc.Manifest, nil
}

func (f *remoteFetcher) config(ctx context.Context, d v1.Hash) ([]byte, error) {
	b, err := withReads(ctx, f.policy, f.repo.RegistryStr(), func() ([]byte, error) {
		return f.blob(ctx, d)
	})
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", d, f.failure(err))
	}
	return b, nil
}

// failure is the error to report for a failed request: a registry that stayed unavailable is
// named without the request URL go-containerregistry wraps around it; a refusal says whether
// credentials were sent.
func (f *remoteFetcher) failure(err error) error {
	var ue *unavailableError
	if errors.As(err, &ue) {
		return ue
	}
	return f.authError(err)
}

// blob reads a small blob; the puller checks its digest while it is read.
func (f *remoteFetcher) blob(ctx context.Context, d v1.Hash) ([]byte, error) {
	l, err := f.puller.Layer(ctx, f.repo.Digest(d.String()))
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readLimited(rc, maxConfigSize)
}

// readLimited reads all of r, refusing more than max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("blob is larger than %d bytes", max)
	}
	return b, nil
}
