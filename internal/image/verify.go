package image

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// registryPath matches the distribution API paths whose bodies have a digest: a manifest by tag
// or digest, or a blob by digest.
var registryPath = regexp.MustCompile(`^/v2/.+/(manifests|blobs)/([^/]+)$`)

// verified wraps a successful manifest or blob body so that reading it to the end fails with a
// digestError when the bytes are not those the digest names: the digest in the URL, or for a
// manifest read by tag the registry's own Docker-Content-Digest header. go-containerregistry
// checks bodies read by digest itself, but not a tag's, so a manifest cut short or damaged in
// transit would otherwise be analysed as it arrived.
func (t *retryTransport) verified(req *http.Request, resp *http.Response) *http.Response {
	if req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp
	}
	m := registryPath.FindStringSubmatch(req.URL.Path)
	if m == nil {
		return resp
	}
	want, err := v1.NewHash(m[2])
	if err != nil {
		if m[1] != "manifests" {
			return resp
		}
		if want, err = v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err != nil {
			return resp // a registry that does not say: nothing to check against
		}
	}
	var h hash.Hash
	switch want.Algorithm {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return resp
	}
	resp.Body = &digestBody{ReadCloser: resp.Body, h: h, want: want, what: m[1]}
	return resp
}

type digestBody struct {
	io.ReadCloser
	h    hash.Hash
	want v1.Hash
	what string
	n    int64
}

func (b *digestBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.h.Write(p[:n])
	b.n += int64(n)
	if err == io.EOF {
		if got := hex.EncodeToString(b.h.Sum(nil)); got != b.want.Hex {
			return n, &digestError{what: b.what, want: b.want, got: b.want.Algorithm + ":" + got, size: b.n}
		}
	}
	return n, err
}

// digestError is a body whose bytes do not match the digest they were asked for by.
type digestError struct {
	what string // "manifests" or "blobs"
	want v1.Hash
	got  string
	size int64
}

func (e *digestError) Error() string {
	what := "manifest"
	if e.what == "blobs" {
		what = "blob"
	}
	return fmt.Sprintf("the %d-byte %s received does not match its digest %s", e.size, what, e.want)
}
