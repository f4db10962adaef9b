package faults_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const (
	authUser = "ci-bot"
	authPass = "Pa55-w0rd-that-must-never-show"
)

// authCase is one way of calling the registry and what the user must see.
type authCase struct {
	name       string
	dockerAuth string // the Docker config's auth for the registry; "" sends none
	code       int
	message    string // stderr must contain it, with HOST the registry's address
}

func authCases() []authCase {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	return []authCase{
		{"right credentials", b64(authUser + ":" + authPass), 0, ""},
		{"wrong password", b64(authUser + ":" + authPass + "-wrong"), 2, "registry HOST refused the credentials (401 Unauthorized)"},
		{"unknown user", b64("nobody:" + authPass), 2, "registry HOST refused the credentials (401 Unauthorized)"},
		{"no credentials", "", 2, "registry HOST denied access without credentials (401 Unauthorized): credentials are missing, or the repository does not exist"},
	}
}

// checkAuth runs the binary for each case against the scenario and returns the figure rows.
// secrets are strings that must appear in no output.
func checkAuth(t *testing.T, mode, host string, s scenario, secrets func() []string) string {
	t.Helper()
	bin := layerdiffBinary(t)
	var rows strings.Builder
	for _, c := range authCases() {
		dir := t.TempDir()
		cfg := `{"auths":{}}`
		if c.dockerAuth != "" {
			cfg = fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, c.dockerAuth)
		}
		writeFile(t, filepath.Join(dir, "config.json"), cfg)
		code, out, errOut, _, err := runBinary(context.Background(), bin, []string{"DOCKER_CONFIG=" + dir}, s.args()...)
		if err != nil && code < 0 {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(c.message, "HOST", host)
		ok := code == c.code && strings.Contains(errOut, want)
		if code == 0 {
			ok = ok && strings.Contains(out, `"schemaVersion": 1`)
		} else {
			ok = ok && out == "" && strings.Count(errOut, "\n") == 1
		}
		if !ok {
			t.Errorf("%s, %s: exit %d, stderr %q; want exit %d and %q", mode, c.name, code, errOut, c.code, want)
		}
		leaked := "none"
		all := append([]string{authPass, base64.StdEncoding.EncodeToString([]byte(authUser + ":" + authPass))}, secrets()...)
		for _, sec := range all {
			if sec != "" && (strings.Contains(out, sec) || strings.Contains(errOut, sec)) {
				leaked = "**LEAKED**"
				t.Errorf("%s, %s: a credential appears in the output", mode, c.name)
			}
		}
		shown := "report"
		if code != 0 {
			shown = "`" + blank(strings.TrimSpace(errOut)) + "`"
		}
		fmt.Fprintf(&rows, "| %s | %s | %d | %s | %s |\n", mode, c.name, code, shown, leaked)
	}
	return rows.String()
}

func htpasswdLine(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("htpasswd", "-Bbn", authUser, authPass).Output()
	if err != nil {
		t.Fatalf("htpasswd (apt-get install apache2-utils): %v", err)
	}
	return strings.TrimSpace(string(out)) + "\n"
}

// TestRealRegistryAuth checks basic (htpasswd) and bearer-token auth against the real
// docker-registry: right credentials work, wrong ones exit 2 naming the registry, and no
// password, auth string or token appears in any output.
func TestRealRegistryAuth(t *testing.T) {
	needReliability(t)
	var table strings.Builder
	table.WriteString("### Registry authentication\n\nDebian's `docker-registry` with htpasswd basic auth, and with token auth (`auth: token:`) whose token service is a test server signing ES256 JWTs with a throwaway certificate in the registry's `rootcertbundle`. Credentials come from a Docker config (`DOCKER_CONFIG`), as in CI. Every output was searched for the password, the base64 `user:password` and every token issued. `LAYERDIFF_RELIABILITY=1 go test ./internal/faults -run TestRealRegistryAuth`\n\n")
	table.WriteString("| auth | credentials | exit | stderr (address blanked) | secrets in output |\n|---|---|---:|---|---|\n")

	t.Run("htpasswd", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "htpasswd"), htpasswdLine(t))
		host := startDockerRegistry(t, fmt.Sprintf("auth:\n  htpasswd:\n    realm: layerdiff-test\n    path: %s\n", filepath.Join(dir, "htpasswd")))
		s := pushScenarios(t, host, "basic", remote.WithAuth(&authn.Basic{Username: authUser, Password: authPass}))[0]
		table.WriteString(checkAuth(t, "htpasswd (basic)", host, s, func() []string { return nil }))
	})

	t.Run("token", func(t *testing.T) {
		ts := newTokenServer(t)
		host := startDockerRegistry(t, fmt.Sprintf("auth:\n  token:\n    realm: %s/token\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n", ts.url, tokenService, tokenIssuer, ts.certFile))
		s := pushScenarios(t, host, "token", remote.WithAuth(&authn.Basic{Username: authUser, Password: authPass}))[0]
		table.WriteString(checkAuth(t, "bearer token", host, s, ts.issuedTokens))
		if len(ts.issuedTokens()) == 0 {
			t.Error("the token service issued no token")
		}
	})
	figures(t, "30-auth.md", table.String()+"\n")
}

const (
	tokenService = "layerdiff-test-registry"
	tokenIssuer  = "layerdiff-test-issuer"
)

// tokenServer is a Docker registry token service: it checks basic credentials and answers a
// JWT granting the scopes asked for, signed by a key whose certificate the registry trusts.
type tokenServer struct {
	url      string
	certFile string
	key      *ecdsa.PrivateKey
	certDER  []byte

	mu     sync.Mutex
	issued []string
}

func newTokenServer(t *testing.T) *tokenServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: tokenIssuer},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ts := &tokenServer{key: key, certDER: der, certFile: filepath.Join(t.TempDir(), "token-ca.pem")}
	writeFile(t, ts.certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	srv := httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(srv.Close)
	// go-containerregistry refuses a token realm that is a private or loopback IP literal other
	// than the registry's own host:port (SSRF protection); a host name passes.
	ts.url = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	return ts
}

func (ts *tokenServer) issuedTokens() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.issued...)
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != authUser || p != authPass {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		http.Error(w, `{"details":"incorrect username or password"}`, http.StatusUnauthorized)
		return
	}
	type access struct {
		Type    string   `json:"type"`
		Name    string   `json:"name"`
		Actions []string `json:"actions"`
	}
	grants := []access{}
	for _, scope := range r.URL.Query()["scope"] {
		for _, sc := range strings.Split(scope, " ") {
			parts := strings.Split(sc, ":")
			if len(parts) == 3 {
				grants = append(grants, access{Type: parts[0], Name: parts[1], Actions: strings.Split(parts[2], ",")})
			}
		}
	}
	now := time.Now()
	header, _ := json.Marshal(map[string]any{"typ": "JWT", "alg": "ES256", "x5c": []string{base64.StdEncoding.EncodeToString(ts.certDER)}})
	claims, _ := json.Marshal(map[string]any{
		"iss": tokenIssuer, "sub": u, "aud": r.URL.Query().Get("service"),
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": fmt.Sprint(now.UnixNano()), "access": grants,
	})
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	rr, ss, err := ecdsa.Sign(rand.Reader, ts.key, sum[:])
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sig := make([]byte, 64)
	rr.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	token := signing + "." + enc.EncodeToString(sig)
	ts.mu.Lock()
	ts.issued = append(ts.issued, token)
	ts.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": token, "access_token": token, "expires_in": 300, "issued_at": now.Format(time.RFC3339)})
}
