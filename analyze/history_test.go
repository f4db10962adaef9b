package analyze

import (
	"strings"
	"testing"
)

func TestParseCreatedBy(t *testing.T) {
	tests := []struct {
		name, createdBy, comment string
		kind, body, key, format  string
		args                     []BuildArg
		hash                     string
	}{
		{"buildkit copy", "COPY app/ ./ # buildkit", "buildkit.dockerfile.v0", "COPY", "app/ ./", "COPY app/ ./", formatBuildKit, nil, ""},
		{"buildkit run", "RUN /bin/sh -c npm ci # buildkit", "buildkit.dockerfile.v0", "RUN", "npm ci", "RUN npm ci", formatBuildKit, nil, ""},
		{"buildkit run args", "RUN |2 VERSION=1.0 NPM_TOKEN=s3cr3t /bin/sh -c npm ci # buildkit", "buildkit.dockerfile.v0", "RUN", "npm ci", "RUN npm ci", formatBuildKit,
			[]BuildArg{{"VERSION", "1.0"}, {"NPM_TOKEN", "s3cr3t"}}, ""},
		{"buildkit run empty arg", "RUN |2 NODEFAULT= VERSION=2.0 /bin/sh -c echo hi # buildkit", "buildkit.dockerfile.v0", "RUN", "echo hi", "RUN echo hi", formatBuildKit,
			[]BuildArg{{"NODEFAULT", ""}, {"VERSION", "2.0"}}, ""},
		{"buildkit exec form", "RUN |1 A=b /bin/busybox --install -s /bin # buildkit", "buildkit.dockerfile.v0", "RUN", "/bin/busybox --install -s /bin", "RUN /bin/busybox --install -s /bin", formatBuildKit, []BuildArg{{"A", "b"}}, ""},
		{"buildkit arg", "ARG NPM_TOKEN=s3cr3t", "buildkit.dockerfile.v0", "ARG", "NPM_TOKEN=s3cr3t", "ARG NPM_TOKEN", formatBuildKit, []BuildArg{{"NPM_TOKEN", "s3cr3t"}}, ""},
		{"buildkit arg no value", "ARG NODEFAULT", "buildkit.dockerfile.v0", "ARG", "NODEFAULT", "ARG NODEFAULT", formatBuildKit, []BuildArg{{"NODEFAULT", ""}}, ""},
		{"buildkit workdir", "WORKDIR /app", "buildkit.dockerfile.v0", "WORKDIR", "/app", "WORKDIR /app", formatBuildKit, nil, ""},
		{"buildkit heredoc", "RUN /bin/sh -c echo a > /x\necho b > /y\n # buildkit", "buildkit.dockerfile.v0", "RUN", "echo a > /x\necho b > /y", "RUN echo a > /x\necho b > /y", formatBuildKit, nil, ""},
		{"classic copy dir", "/bin/sh -c #(nop) COPY dir:ebdcac3f608aca5745e0263e8247a41aaaecdc8b10773399c7fc28daf9295972 in ./all/ ", "", "COPY", "./all/", "COPY ./all/", formatClassic, nil, "dir:ebdcac3f608aca5745e0263e8247a41aaaecdc8b10773399c7fc28daf9295972"},
		{"classic copy multi", "/bin/sh -c #(nop) COPY multi:6a461f48 in ./ ", "FROM 14f875dcdb69", "COPY", "./", "COPY ./", formatClassic, nil, "multi:6a461f48"},
		{"classic env", "/bin/sh -c #(nop)  ENV APP_HOME=/app MODE=prod", "", "ENV", "APP_HOME=/app MODE=prod", "ENV APP_HOME=/app MODE=prod", formatClassic, nil, ""},
		{"classic workdir", "/bin/sh -c #(nop) WORKDIR /app", "", "WORKDIR", "/app", "WORKDIR /app", formatClassic, nil, ""},
		{"classic run", "/bin/sh -c cat package.json > deps.lock", "", "RUN", "cat package.json > deps.lock", "RUN cat package.json > deps.lock", formatClassic, nil, ""},
		{"buildah run args", `|3 NODEFAULT=given NPM_TOKEN=s3cr3t VERSION=1.0 /bin/sh -c ["/bin/busybox", "--install"]`, "FROM 08d861cda611", "RUN", `["/bin/busybox", "--install"]`, `RUN ["/bin/busybox", "--install"]`, formatClassic,
			[]BuildArg{{"NODEFAULT", "given"}, {"NPM_TOKEN", "s3cr3t"}, {"VERSION", "1.0"}}, ""},
		{"buildah arg names", "/bin/sh -c #(nop) ARG NODEFAULT VERSION", "FROM 5c42baee7462", "ARG", "NODEFAULT VERSION", "ARG NODEFAULT VERSION", formatClassic, []BuildArg{{"NODEFAULT", ""}, {"VERSION", ""}}, ""},
		{"kaniko copy", "COPY . .", "", "COPY", ". .", "COPY . .", formatPlain, nil, ""},
		{"kaniko run", "RUN npm ci", "", "RUN", "npm ci", "RUN npm ci", formatPlain, nil, ""},
		{"bash shell", "RUN /bin/bash -o pipefail -c make # buildkit", "", "RUN", "make", "RUN make", formatBuildKit, nil, ""},
		{"unknown", "sha256:abc created by hand", "", "", "sha256:abc created by hand", "sha256:abc created by hand", formatUnknown, nil, ""},
		{"empty", "", "", "", "", "", formatUnknown, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ParseCreatedBy(tt.createdBy, tt.comment)
			if in.Kind != tt.kind || in.Body != tt.body || in.Key() != tt.key || in.Format != tt.format || in.ContentHash != tt.hash {
				t.Errorf("got kind %q body %q key %q format %q hash %q; want %q %q %q %q %q",
					in.Kind, in.Body, in.Key(), in.Format, in.ContentHash, tt.kind, tt.body, tt.key, tt.format, tt.hash)
			}
			if len(in.Args) != len(tt.args) {
				t.Fatalf("args = %v, want %v", in.Args, tt.args)
			}
			for i := range tt.args {
				if in.Args[i] != tt.args[i] {
					t.Errorf("arg %d = %v, want %v", i, in.Args[i], tt.args[i])
				}
			}
		})
	}
}

func FuzzParseCreatedBy(f *testing.F) {
	for _, s := range []string{
		"RUN |2 VERSION=1.0 NPM_TOKEN=x /bin/sh -c npm ci # buildkit",
		"/bin/sh -c #(nop) COPY dir:abc in ./src/ ",
		"|1 A=b /bin/sh -c make",
		"ARG A=1 B",
		"|999999999999999999999 A",
		"|3 A=1",
		"COPY",
	} {
		f.Add(s, "buildkit.dockerfile.v0")
	}
	f.Fuzz(func(t *testing.T, createdBy, comment string) {
		in := ParseCreatedBy(createdBy, comment)
		if in.Kind != "" && !keywords[in.Kind] {
			t.Fatalf("kind %q is not an instruction", in.Kind)
		}
		_ = in.Key()
		_ = in.Text()
		for _, a := range in.Args {
			if IsSecretName(a.Name) && len(a.Value) >= 4 {
				var r redactor
				r.add(a.Value)
				if strings.Contains(r.redact(in.Text()+" "+createdBy), a.Value) {
					t.Fatalf("secret value %q survived redaction", a.Value)
				}
			}
		}
	})
}

func TestRedact(t *testing.T) {
	var r redactor
	r.add("hunter22")
	got := r.redact("RUN |2 NPM_TOKEN=hunter22 VERSION=1 /bin/sh -c echo hunter22 && GH_AUTH='x y' && api_key=\"q\"")
	for _, leak := range []string{"hunter22", "'x y'", `"q"`} {
		if strings.Contains(got, leak) {
			t.Errorf("redacted text %q still holds %q", got, leak)
		}
	}
	if !strings.Contains(got, "VERSION=1") {
		t.Errorf("redacted text %q lost a non-secret arg", got)
	}
	for name, secret := range map[string]bool{"NPM_TOKEN": true, "db_password": true, "PRIVATE_KEY": true, "AuthHeader": true, "VERSION": false, "NODE_ENV": false} {
		if IsSecretName(name) != secret {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, !secret, secret)
		}
	}
}
