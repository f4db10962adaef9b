package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// bearerRegistry puts the in-process registry behind the Docker token flow: requests without a
// token issued by /token get a Bearer challenge, and /token wants the basic credentials. (The
// real docker-registry with `auth: token` is exercised by .ci/reliability.)
type bearerRegistry struct {
	*testRegistry
	mu     sync.Mutex
	issued map[string]bool
	// tokenFaults makes the next token requests answer 503.
	tokenFaults atomic.Int32
}

func newBearerRegistry(t *testing.T, user, pass string) *bearerRegistry {
	b := &bearerRegistry{issued: map[string]bool{}}
	b.testRegistry = newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				if b.tokenFaults.Add(-1) >= 0 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprint(w, `{"details":"incorrect username or password"}`)
					return
				}
				b.mu.Lock()
				tok := fmt.Sprintf("tok-%d-secret", len(b.issued)+1)
				b.issued[tok] = true
				b.mu.Unlock()
				json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
				return
			}
			b.mu.Lock()
			ok := b.issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
			b.mu.Unlock()
			if !ok {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test-registry"`, r.Host))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	return b
}

func TestLoadRemoteBearerToken(t *testing.T) {
	const user, pass = "ci-bot", "b3arer-Pa55word"
	reg := newBearerRegistry(t, user, pass)
	img := buildImage(t, linuxAMD64, appSteps...)
	ref := reg.ref("private/app:head")
	push(t, ref, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass}))

	noSecret := func(t *testing.T, err error) {
		t.Helper()
		reg.mu.Lock()
		defer reg.mu.Unlock()
		for tok := range reg.issued {
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error reveals a token: %v", err)
			}
		}
		if strings.Contains(err.Error(), pass) {
			t.Errorf("error reveals the password: %v", err)
		}
	}

	t.Run("right credentials", func(t *testing.T) {
		got, err := Load(context.Background(), ref, "", WithAuth(user, pass))
		if err != nil {
			t.Fatal(err)
		}
		checkImage(t, got, want(t, ref, img))
	})
	t.Run("token service briefly unavailable", func(t *testing.T) {
		reg.tokenFaults.Store(2)
		got, err := Load(context.Background(), ref, "", append(fast, WithAuth(user, pass))...)
		if err != nil {
			t.Fatal(err)
		}
		checkImage(t, got, want(t, ref, img))
	})
	t.Run("wrong credentials", func(t *testing.T) {
		_, err := Load(context.Background(), ref, "", WithAuth(user, pass+"-wrong"))
		wantErr(t, err, "registry "+reg.host+" refused the credentials (401 Unauthorized)")
		noSecret(t, err)
	})
	t.Run("no credentials", func(t *testing.T) {
		_, err := Load(context.Background(), ref, "", WithKeychain(authn.NewMultiKeychain()))
		wantErr(t, err, "registry "+reg.host+" denied access without credentials (401 Unauthorized)")
		if errors.Is(err, ErrNotFound) {
			t.Error("an auth failure is not ErrNotFound")
		}
		noSecret(t, err)
	})
}
